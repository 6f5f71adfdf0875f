-- Every API query is scoped by account (authentication, 0002), so the creditor indexes lead
-- with it: a scoped count of a creditor's open cases is then a covering index range.
DROP INDEX cases_creditor_open;
CREATE INDEX cases_creditor_open ON cases (account, creditor, closed_at NULLS FIRST, created, id);
DROP INDEX cases_creditor_invoice;
CREATE INDEX cases_account_invoice ON cases (account, invoice_number, creditor);
