"""Migration 11: fewer pages per order in the WAL. tasks is keyed by its id alone, without a
rowid: one b-tree where there were three (the rowid table, the id's index and
tasks_by_order); an order's tasks are the ids that begin with "<order id>.".
metrics_outbox loses AUTOINCREMENT (ordering numbers its rows, never deletes one)."""

FEWER_PAGES = """
    CREATE TABLE tasks_v11 (
        task_id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL,
        op TEXT NOT NULL,
        aisle TEXT NOT NULL,
        lines TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        robot_id TEXT,
        updated_at REAL NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO tasks_v11 (task_id, order_id, op, aisle, lines, status, attempts, robot_id,
                           updated_at)
        SELECT task_id, order_id, op, aisle, lines, status, attempts, robot_id, updated_at
        FROM tasks;
    DROP TABLE tasks;
    ALTER TABLE tasks_v11 RENAME TO tasks;
    CREATE TABLE metrics_outbox_v11 (
        seq INTEGER PRIMARY KEY,
        order_kind TEXT NOT NULL,
        order_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        items INTEGER NOT NULL,
        created_at REAL NOT NULL,
        finished_at REAL NOT NULL
    );
    INSERT INTO metrics_outbox_v11 SELECT * FROM metrics_outbox;
    DROP TABLE metrics_outbox;
    ALTER TABLE metrics_outbox_v11 RENAME TO metrics_outbox;
    """
