-- A sandbox clock move whose run has not finished (issue 23): the account time its cases must
-- still be run to, and the real time the move was made. Set in the transaction that moves the
-- clock, cleared when the run ends, so a move cut short by a crash is finished by the worker.
ALTER TABLE account_clocks ADD COLUMN run_until BIGINT;
ALTER TABLE account_clocks ADD COLUMN run_since BIGINT;
