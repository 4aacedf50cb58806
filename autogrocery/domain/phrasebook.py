"""What the stock-command conversation says, in the language the command was typed in."""

from __future__ import annotations

from autogrocery.domain.models import MovementType, Product

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "examples": "took 3 small cola · threw away 2 milk · counted 40 eggs · "
        "got 5 boxes of cola cans",
        "not_understood": "I did not understand that. Say what happened, how many and to "
        "what, like: {examples}.",
        "no_open_question": "There is no open question in this conversation (questions "
        "expire after {minutes} min). Say the whole command, like: {examples}.",
        "ask_action": "What happened to {what}: took, threw away, counted or got?",
        "ask_product": "Which product?",
        "did_you_mean": 'Nothing is called "{words}". Did you mean {choices}? '
        "(answer with a number or a name, or cancel)",
        "unknown": 'I know no product like "{words}".',
        "which": 'Several products match "{words}": {choices}. Which one? '
        "(answer with a number or a name)",
        "more": "and {count} more: say more words to narrow it down",
        "how_many": "How many {name} ({many})?",
        "how_many_whole": "How many {name} ({many})? A whole number, please.",
        "not_boxed": "{name} does not come in boxes. How many {many}?",
        "boxes_or_units": "{name} comes in boxes of {box}: {quantity} {quantity_boxes} ({total} "
        "{total_unit}) or {quantity} {quantity_unit}?",
        "measure": "{name} is counted by the {one}: {quantity} {quantity_unit}? (yes, or say "
        "how many {many})",
        "short": "Only {free} {free_unit} of {name} on hand; set to 0?",
        "short_held": "Only {free} {free_unit} of {name} free ({held} held for orders, "
        "{on_hand} on hand); take {free}?",
        "short_expired": "Only {free} {free_unit} of {name} good to take ({expired} expired: "
        "throw those away instead; {held} held for orders); take {free}?",
        "nothing_free": "No {name} to take: {on_hand} on hand, {held} held for orders.",
        "nothing_good": "No good {name} to take: {on_hand} on hand, {expired} expired (throw "
        "those away instead), {held} held for orders.",
        "below_held": "Cannot count {units} {name}: {held} are held for open orders.",
        "too_many": "{units} {units_unit} is more than one command may record ({most}).",
        "zero": "Nothing to record: the quantity is 0.",
        "same": "{name}: {on_hand} on hand already; nothing to record.",
        "cancelled": "Cancelled; nothing recorded.",
        "sorry": "Sorry, I did not get that. ",
        "gone": "{sku} is no longer in the catalog; nothing recorded.",
        "confirm_OUT": "Take {units} {units_unit} of {name}: on hand {before} → {after}. "
        "Record it? (yes or no)",
        "confirm_WASTE": "Write off {units} {units_unit} of {name} as waste: on hand {before} "
        "→ {after}. Record it? (yes or no)",
        "confirm_COUNT": "Set {name} to the {units} {units_unit} counted: on hand {before} → "
        "{after}. Record it? (yes or no)",
        "confirm_IN": "Receive {units} {units_unit} of {name}: on hand {before} → {after}. "
        "Record it? (yes or no)",
        MovementType.OUT: "Took {units} {units_unit} of {name}: on hand {before} → {after}.",
        MovementType.WASTE: "Wrote off {units} {units_unit} of {name} as waste: on hand "
        "{before} → {after}.",
        MovementType.COUNT: "Counted {units} {units_unit} of {name}: on hand {before} → {after}.",
        MovementType.IN: "Received {units} {units_unit} of {name}: on hand {before} → {after}.",
    },
    "he": {
        "examples": "לקחתי 3 קולה קטנה · זרקתי 2 חלב · ספרתי 40 ביצים · קיבלתי 5 ארגזים קולה פחיות",
        "not_understood": "לא הבנתי. כתבו מה קרה, כמה וממה, למשל: {examples}.",
        "no_open_question": "אין שאלה פתוחה בשיחה הזאת (שאלות פגות אחרי {minutes} דקות). "
        "כתבו את כל הפקודה, למשל: {examples}.",
        "ask_action": "מה קרה ל{what}: לקחת, זרקת, ספרת או קיבלת?",
        "ask_product": "איזה מוצר?",
        "did_you_mean": 'אין מוצר בשם "{words}". התכוונת ל{choices}? (מספר, שם, או "בטל")',
        "unknown": 'לא מצאתי מוצר כמו "{words}".',
        "which": 'כמה מוצרים מתאימים ל"{words}": {choices}. איזה מהם? (מספר או שם)',
        "more": "ועוד {count}: הוסיפו מילים כדי לצמצם",
        "how_many": "כמה {name} ({many})?",
        "how_many_whole": "כמה {name} ({many})? מספר שלם, בבקשה.",
        "not_boxed": "{name} לא מגיע בארגזים. כמה {many}?",
        "boxes_or_units": "{name} מגיע בארגזים של {box}: {quantity} {quantity_boxes} ({total} "
        "{total_unit}) או {quantity} {quantity_unit}?",
        "measure": "{name} נספר לפי {one}: {quantity} {quantity_unit}? (כן, או כמה {many})",
        "short": "יש רק {free} {free_unit} {name} במלאי; לאפס?",
        "short_held": "רק {free} {free_unit} {name} פנויים ({held} שמורים להזמנות, {on_hand} "
        "במלאי); לקחת {free}?",
        "short_expired": "רק {free} {free_unit} {name} תקינים ({expired} פגי תוקף: זרקו אותם; "
        "{held} שמורים להזמנות); לקחת {free}?",
        "nothing_free": "אין {name} לקחת: {on_hand} במלאי, {held} שמורים להזמנות.",
        "nothing_good": "אין {name} תקינים לקחת: {on_hand} במלאי, {expired} פגי תוקף (זרקו "
        "אותם), {held} שמורים להזמנות.",
        "below_held": "אי אפשר לספור {units} {name}: {held} שמורים להזמנות פתוחות.",
        "too_many": "{units} {units_unit} זה יותר ממה שפקודה אחת רושמת ({most}).",
        "zero": "אין מה לרשום: הכמות היא 0.",
        "same": "{name}: כבר {on_hand} במלאי; אין מה לעדכן.",
        "cancelled": "בוטל; לא נרשם כלום.",
        "sorry": "סליחה, לא הבנתי. ",
        "gone": "{sku} כבר לא בקטלוג; לא נרשם כלום.",
        "confirm_OUT": "לרשום שנלקחו {units} {units_unit} {name}? במלאי: עכשיו {before}, "
        "אחרי {after}. (כן או לא)",
        "confirm_WASTE": "לרשום {units} {units_unit} {name} כפחת? במלאי: עכשיו {before}, אחרי "
        "{after}. (כן או לא)",
        "confirm_COUNT": "לרשום ספירה של {units} {units_unit} {name}? במלאי: עכשיו {before}, "
        "אחרי {after}. (כן או לא)",
        "confirm_IN": "לרשום שהתקבלו {units} {units_unit} {name}? במלאי: עכשיו {before}, אחרי "
        "{after}. (כן או לא)",
        MovementType.OUT: "עדכנתי: נלקחו {units} {units_unit} {name}. במלאי: היה {before}, "
        "עכשיו {after}.",
        MovementType.WASTE: "עדכנתי: {units} {units_unit} {name} נרשמו כפחת. במלאי: היה {before}, "
        "עכשיו {after}.",
        MovementType.COUNT: "עדכנתי: נספרו {units} {units_unit} {name}. במלאי: היה {before}, "
        "עכשיו {after}.",
        MovementType.IN: "עדכנתי: התקבלו {units} {units_unit} {name}. במלאי: היה {before}, "
        "עכשיו {after}.",
    },
}


# A product's unit as said with a number: (one, many), by language.
UNIT_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "each": ("unit", "units"),
        "loaf": ("loaf", "loaves"),
        "kg": ("kg", "kg"),
        "l": ("l", "l"),
        "dozen": ("dozen", "dozen"),
        "box": ("box", "boxes"),
    },
    "he": {
        "each": ("יחידה", "יחידות"),
        "loaf": ("כיכר", "כיכרות"),
        "kg": ('ק"ג', 'ק"ג'),
        "l": ("ליטר", "ליטר"),
        "dozen": ("תריסר", "תריסרים"),
        "pack": ("חבילה", "חבילות"),
        "bottle": ("בקבוק", "בקבוקים"),
        "can": ("פחית", "פחיות"),
        "box": ("ארגז", "ארגזים"),
    },
}


def unit_name(unit: str, count: int, language: str) -> str:
    """`unit` said with `count`: "1 loaf", "3 loaves"; "3 פחיות"."""
    one, many = UNIT_NAMES.get(language, {}).get(unit, (unit, f"{unit}s"))
    return one if count == 1 else many


def say(language: str, key: str, unit: str = "", **values: str | int) -> str:
    """The phrase `key` with `values`; for each number among `units`, `free`,
    `quantity` and `total`, `{name}_unit` is `unit` said with it (and `many` is the
    unit said with several, `quantity_boxes` the word for that many boxes)."""
    phrases = PHRASES.get(language, PHRASES["en"])
    for number in ("units", "free", "quantity", "total"):
        count = values.get(number)
        if isinstance(count, int):
            values[f"{number}_unit"] = unit_name(unit, count, language)
    values["many"] = unit_name(unit, 2, language)
    quantity = values.get("quantity", 2)
    values["quantity_boxes"] = unit_name(
        "box", quantity if isinstance(quantity, int) else 2, language
    )
    return phrases[key].format(examples=phrases["examples"], **values)


def name_of(product: Product, language: str) -> str:
    return (product.name_he or product.name) if language == "he" else product.name


def listing(products: list[Product], language: str, on_hand: dict[str, int]) -> str:
    """`1) Whole milk (DAI-002, 120 on hand), 2) …` for a question's choices."""
    held = "במלאי" if language == "he" else "on hand"
    return ", ".join(
        f"{n}) {name_of(p, language)} ({p.sku}, {on_hand.get(p.sku, 0)} {held})"
        for n, p in enumerate(products, 1)
    )
