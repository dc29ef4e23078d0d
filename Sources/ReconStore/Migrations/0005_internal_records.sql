-- The payment center's own records (issue 12, §1): the legs of its orders and the
-- virtual-account ledger, imported from files by `recon import-payments` and
-- `recon import-ledger`. A row is keyed by its id, so importing a file again replaces its rows.
-- Identifiers compare as bytes (COLLATE "C"), as the channels' ids and the reconcile's merge do.

CREATE TABLE payment_legs (
    leg_id           text COLLATE "C" PRIMARY KEY,
    order_id         text COLLATE "C" NOT NULL,
    business_system  text COLLATE "C" NOT NULL,
    merchant_id      text COLLATE "C" NOT NULL,
    leg_kind         text        NOT NULL CHECK (leg_kind IN ('channel', 'pre_deposit', 'points', 'data_traffic')),
    -- The [[channel]] name and the channel's transaction id; NULL for a virtual-account leg.
    channel          text COLLATE "C",
    channel_txn_id   text COLLATE "C",
    -- The refund request id we sent the channel; NULL on payments.
    refund_id        text COLLATE "C",
    -- What the leg meets a bill line on besides channel_txn_id: the refund id for a refund on a
    -- channel that keys refunds by it (Alipay, WeChat Pay, bank files), else ''.
    match_refund_key text COLLATE "C",
    -- FNV-1a of channel_txn_id cut to 63 bits (ReconMatching's MatchKey.keyHash): the reconcile
    -- shard is key_hash % shards, so refunds land in their payment's shard.
    key_hash         bigint,
    direction        text        NOT NULL CHECK (direction IN ('payment', 'refund')),
    -- Signed fen: a refund's amount and fee are negative (the file writes magnitudes).
    amount_fen       bigint      NOT NULL,
    fee_fen          bigint      NOT NULL,
    status           text        NOT NULL CHECK (status IN ('success', 'failed', 'pending', 'closed')),
    occurred_at      timestamptz NOT NULL,
    -- occurred_at's day in the channel's time zone (Beijing for virtual-account legs).
    business_date    date        NOT NULL,
    imported_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((leg_kind = 'channel') = (channel IS NOT NULL AND channel_txn_id IS NOT NULL
                                     AND match_refund_key IS NOT NULL AND key_hash IS NOT NULL))
);

-- Keys are unique on our side of a channel-day; the reconcile reads a day's legs in this order.
CREATE UNIQUE INDEX payment_legs_channel_key
    ON payment_legs (channel, business_date, channel_txn_id, match_refund_key) WHERE leg_kind = 'channel';
CREATE INDEX payment_legs_virtual_day ON payment_legs (business_date, leg_id) WHERE leg_kind <> 'channel';

CREATE TABLE ledger_entries (
    entry_id      text COLLATE "C" PRIMARY KEY,
    account_id    text COLLATE "C" NOT NULL,
    asset         text        NOT NULL CHECK (asset IN ('pre_deposit', 'points', 'data_traffic')),
    -- The leg that moved the account; it may be in no payments file (the virtual-account check
    -- reports exactly that).
    leg_id        text COLLATE "C" NOT NULL,
    -- Signed as the leg moves it, in yuan-equivalent fen (1 point = 1 fen).
    amount_fen    bigint      NOT NULL,
    occurred_at   timestamptz NOT NULL,
    business_date date        NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ledger_entries_leg ON ledger_entries (leg_id, entry_id);
CREATE INDEX ledger_entries_day ON ledger_entries (business_date);
