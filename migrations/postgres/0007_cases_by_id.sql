-- A collection GET without `sort` pages by `_id` (Eve's default order); scoped by account,
-- that order had no index and every page sorted the account's whole table (5 s and 100 MB
-- of sorter memory per page at a million cases).
CREATE INDEX cases_account_id ON cases (account, id);
