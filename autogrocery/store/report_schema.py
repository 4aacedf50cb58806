"""Migration 14: indexes for paged reports. A page of a report names its SKUs first,
then reads only their movements in the period: by type and SKU, then time (the
index covers the figures, so no movement row is read); the daily totals of pruned
days likewise by SKU, not every SKU of every day in the period.
"""

PAGED_REPORTS = """
    CREATE INDEX movements_by_sku_for_reports ON movements (type, sku, at, delta, lot);
    CREATE INDEX movement_days_by_sku ON movement_days (type, sku, day);
"""
