-- What the dashboard (issue 13) reads on every page, without scanning whole days:
-- a day's discrepancies of one channel in the list's order (a day of millions of matched items
-- holds a few hundred others);
CREATE INDEX recon_results_discrepancies ON recon_results (channel, bill_date, channel_txn_id, match_refund_key, lane)
    WHERE status <> 'matched';
-- the virtual check's discrepancies of a day, by asset, in the list's order (the primary key
-- would read every matched row of the 30 days the days view counts);
CREATE INDEX recon_virtual_results_discrepancies ON recon_virtual_results (bill_date, asset, leg_id, entry_id)
    WHERE status <> 'matched';
-- and the summaries of a range of days (the days view, the day view's neighbours).
CREATE INDEX recon_summaries_day ON recon_summaries (bill_date);
