//! `/users` (amili-api.md §4.16): list, read and create users of the caller's account.
//! Access is granted through `data_access` to the account's access groups. A user whose
//! groups all belong to one creditor is confined to it (`creditor`, an Indriva read-only
//! field); a creditor-bound API user can only grant its own creditor's groups. API users are
//! not created here: they need a key pair (`indriva admin api-user create`).

pub mod get;
pub mod list;
pub mod post;

use crate::eve::validate::{Rule, Schema};
use crate::schemas::email;

const ACCESS: Rule = Rule::dict(&[("access_group", Rule::objectid().required())]);
const APPLICATION: Rule = Rule::dict(&[("application", Rule::objectid().required())]);

pub const SCHEMA: Schema = &[
    ("account", Rule::objectid().required()),
    ("name", Rule::string().required().nonempty().maxlength(200)),
    (
        "email_data",
        Rule::dict(&[("email", Rule::string().required().check(email))]),
    ),
    (
        "oauth_type",
        Rule::string().allowed(&["microsoft", "google"]),
    ),
    ("email_oauth", Rule::string().check(email)),
    ("oauth_subscriber", Rule::string()),
    ("data_access", Rule::list(&ACCESS)),
    ("is_enabled", Rule::boolean()),
    ("applications", Rule::list(&APPLICATION)),
    ("log_invoice_registrations", Rule::boolean()),
    ("log_case_registrations", Rule::boolean()),
    ("log_creditor_payments", Rule::boolean()),
    ("creditor", Rule::objectid().readonly()),
];
