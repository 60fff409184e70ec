-- The code columns every period panel compares row by row become Enum8
-- (one byte each) instead of String: the per-unit tables read and compare
-- them for ~20 counts over a month's dossiers. '' = 0 is "not set" and the
-- default, which an empty standing-timeline lookup also returns. Values are
-- those of schemas.events.Channel/OnlineLevel and streams.rules.lifecycle
-- Outcome/Standing (tests/unit/clickhouse/test_migrations.py keeps them equal); a new
-- value needs a migration adding it before any worker writes it.
ALTER TABLE motcua.dossier_facts
    MODIFY COLUMN channel Enum8('' = 0, 'direct' = 1, 'online' = 2, 'postal' = 3),
    MODIFY COLUMN online_level Enum8('' = 0, 'none' = 1, 'partial' = 2, 'full' = 3),
    MODIFY COLUMN outcome Enum8('' = 0, 'resolved' = 1, 'returned' = 2, 'stopped' = 3, 'withdrawn' = 4),
    MODIFY COLUMN final_standing Enum8('' = 0, 'early' = 1, 'on_time' = 2, 'late' = 3, 'waiting_supplement' = 4, 'within_due' = 5, 'overdue' = 6),
    MODIFY COLUMN change_standing Array(Enum8('' = 0, 'early' = 1, 'on_time' = 2, 'late' = 3, 'waiting_supplement' = 4, 'within_due' = 5, 'overdue' = 6));

ALTER TABLE motcua.dossier_periods
    MODIFY COLUMN channel Enum8('' = 0, 'direct' = 1, 'online' = 2, 'postal' = 3),
    MODIFY COLUMN online_level Enum8('' = 0, 'none' = 1, 'partial' = 2, 'full' = 3),
    MODIFY COLUMN outcome Enum8('' = 0, 'resolved' = 1, 'returned' = 2, 'stopped' = 3, 'withdrawn' = 4),
    MODIFY COLUMN final_standing Enum8('' = 0, 'early' = 1, 'on_time' = 2, 'late' = 3, 'waiting_supplement' = 4, 'within_due' = 5, 'overdue' = 6),
    MODIFY COLUMN change_standing Array(Enum8('' = 0, 'early' = 1, 'on_time' = 2, 'late' = 3, 'waiting_supplement' = 4, 'within_due' = 5, 'overdue' = 6));

ALTER TABLE motcua.open_dossiers
    MODIFY COLUMN channel Enum8('' = 0, 'direct' = 1, 'online' = 2, 'postal' = 3),
    MODIFY COLUMN online_level Enum8('' = 0, 'none' = 1, 'partial' = 2, 'full' = 3),
    MODIFY COLUMN outcome Enum8('' = 0, 'resolved' = 1, 'returned' = 2, 'stopped' = 3, 'withdrawn' = 4),
    MODIFY COLUMN final_standing Enum8('' = 0, 'early' = 1, 'on_time' = 2, 'late' = 3, 'waiting_supplement' = 4, 'within_due' = 5, 'overdue' = 6),
    MODIFY COLUMN change_standing Array(Enum8('' = 0, 'early' = 1, 'on_time' = 2, 'late' = 3, 'waiting_supplement' = 4, 'within_due' = 5, 'overdue' = 6));
