-- Channel bill lines after parsing, one row per line of one channel's bill for one day,
-- in the normalized shape every adapter produces (CHANNELS.md §0). Money is integer fen.
CREATE TABLE staged_bill_lines (
    channel           text        NOT NULL,
    bill_date         date        NOT NULL,
    line_no           int8        NOT NULL,
    channel_txn_id    text        NOT NULL,
    merchant_order_id text,
    refund_id         text,
    kind              text        NOT NULL CHECK (kind IN ('payment', 'refund')),
    amount_fen        int8        NOT NULL,
    fee_fen           int8        NOT NULL DEFAULT 0,
    channel_status    text,
    txn_time          timestamptz NOT NULL,
    PRIMARY KEY (channel, bill_date, line_no)
);

CREATE INDEX staged_bill_lines_txn ON staged_bill_lines (channel, channel_txn_id);
