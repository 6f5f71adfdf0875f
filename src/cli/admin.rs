//! `indriva admin …`: what an operator does to onboard a client — create its account, its
//! creditors and the API users its integration authenticates as. Works directly on the
//! database, with or without the server running (SQLite allows one writer at a time and
//! waits for it; PostgreSQL has no such limit). Each `create` prints the new id as the last
//! word on stdout.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use crate::auth::jwt::{Algorithm, PublicKey};
use crate::domain::bank::AGENCY_ACCOUNT;
use crate::domain::case::{CaseSettings, InterestRateSettings};
use crate::domain::flow::FlowConfig;
use crate::domain::identity::parse_org_number;
use crate::domain::party::{Account, Creditor};
use crate::domain::policy::CreditorPolicy;
use crate::domain::{Clock, ObjectId, SystemClock};
use crate::eve::validate::{expand_dotted, validate, Issues, Mode};
use crate::resources::{ACCOUNTS, CREDITORS};
use crate::scope::Scope;
use crate::store::Store;
use crate::tenancy::creditors;
use crate::tenancy::{self, ApiKey};

use super::compose::StoreArgs;

#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub command: AdminCommand,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run_command(args: AdminArgs) -> anyhow::Result<()> {
    let store = args.store.open_existing().await?;
    let result = run(&store, args.command).await;
    store.close().await;
    println!("{}", result?);
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Accounts (a client relationship; owns creditors).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Creditors (the businesses whose claims are collected).
    #[command(subcommand)]
    Creditor(CreditorCommand),
    /// API users (what an integration authenticates as).
    #[command(subcommand, name = "api-user")]
    ApiUser(ApiUserCommand),
    /// Flow configurations (the steps cases go through, and their waits).
    #[command(subcommand, name = "flow-config")]
    FlowConfig(FlowConfigCommand),
    /// Operators: the people who sign in to the console at /console.
    #[command(subcommand)]
    Operator(OperatorCommand),
}

#[derive(Subcommand, Debug)]
pub enum OperatorCommand {
    /// Create an operator: of the agency (every account), or of one account or creditor.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password (at least 12 characters) from standard input's first line.
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Only this account.
        #[arg(long)]
        account: Option<String>,
        /// Only this creditor (of `--account`).
        #[arg(long, requires = "account")]
        creditor: Option<String>,
    },
    /// Set an operator's password (read from standard input) and end their sessions.
    Password {
        #[arg(long)]
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Stop an operator from signing in; their sessions end at once.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Let a disabled operator sign in again.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Every operator, as JSON lines.
    List,
}

async fn set_operator_disabled(
    store: &Store,
    email: &str,
    disabled: bool,
) -> anyhow::Result<String> {
    let email = email.trim().to_lowercase();
    if !store
        .set_console_operator_disabled(&email, disabled)
        .await?
    {
        anyhow::bail!("no operator with the email {email}");
    }
    Ok(serde_json::json!({"email": email, "disabled": disabled}).to_string())
}

/// The password on standard input's first line (without its line end).
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

#[derive(Subcommand, Debug)]
pub enum FlowConfigCommand {
    /// Print a flow configuration as JSON: the built-in default, or a stored one.
    Show {
        #[arg(long)]
        id: Option<String>,
    },
    /// Store a flow configuration (JSON shaped like `show`'s output, with its own `_id`)
    /// after checking it; creditors use it when their policy names its id.
    Add {
        #[arg(long)]
        json: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Create an account with its access groups.
    Create {
        #[arg(long)]
        name: String,
        /// Swedish organisationsnummer (10 digits, check digit verified).
        #[arg(long)]
        organization_no: String,
        #[arg(long)]
        description: Option<String>,
        /// A sandbox account: its API users get a clock of their own (`/sandbox/clock`).
        #[arg(long)]
        sandbox: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum CreditorCommand {
    /// Create a creditor in an account, with its access groups. Without `--json` it is
    /// created inactive; activate it with `PATCH /creditors/{id}` or pass the activation data
    /// (standard_debt_description, sender_address, invoice_address, payout_details, is_active)
    /// in a JSON file shaped like a `POST /creditors` body.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        organization_no: String,
        /// More creditor fields, as in a `POST /creditors` body.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Print a creditor's policy (fees, allocation order, flow configuration) as JSON, or
    /// replace it with `--json FILE`; see docs/fees.md.
    Policy {
        #[arg(long)]
        creditor: String,
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApiUserCommand {
    /// Create an API user for an account (every creditor) or one of its creditors.
    Create(ApiUserArgs),
}

#[derive(Args, Debug)]
pub struct ApiUserArgs {
    #[arg(long, required_unless_present = "operator")]
    pub account: Option<String>,
    /// Bind the API user to this creditor only.
    #[arg(long, conflicts_with = "operator")]
    pub creditor: Option<String>,
    /// An agency operator, bound to no account: reads every account, and alone may import
    /// bank files and match unmatched payments.
    #[arg(long, conflicts_with = "account")]
    pub operator: bool,
    /// The integrator's public key (PEM). The algorithm is taken from the key (EC P-256/384/
    /// 521 → ES256/384/512, RSA → RS256) unless `--algorithm` says otherwise.
    #[arg(long, conflicts_with = "out", required_unless_present = "out")]
    pub public_key: Option<PathBuf>,
    /// ES256, ES384, ES512, RS256, RS384 or RS512.
    #[arg(long, requires = "public_key")]
    pub algorithm: Option<String>,
    /// Generate an ES256 key pair and write the credentials file (mode 0600) here, with the
    /// same fields as `sandbox-credentials.json`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A name for the `users` document.
    #[arg(long, default_value = "API user")]
    pub name: String,
}

fn oid(s: &str, what: &str) -> anyhow::Result<ObjectId> {
    ObjectId::parse(s).map_err(|_| anyhow::anyhow!("{what} must be a 24-character hex id"))
}

fn issues_error(issues: &Issues) -> anyhow::Error {
    anyhow::anyhow!(
        "invalid: {}",
        serde_json::to_string(issues).unwrap_or_default()
    )
}

/// Runs an admin command; the returned line is printed on stdout.
pub async fn run(store: &Store, cmd: AdminCommand) -> anyhow::Result<String> {
    let clock = SystemClock::new();
    match cmd {
        AdminCommand::Operator(OperatorCommand::Create {
            email,
            password_stdin: _,
            account,
            creditor,
        }) => {
            let account = account
                .as_deref()
                .map(|a| oid(a, "--account"))
                .transpose()?;
            let creditor = creditor
                .as_deref()
                .map(|c| oid(c, "--creditor"))
                .transpose()?;
            if let Some(a) = &account {
                let scope = Scope::unrestricted();
                if store.get(&ACCOUNTS, &scope, a).await?.is_none() {
                    anyhow::bail!("no account {}", a.to_hex());
                }
                if let Some(c) = &creditor {
                    let found = store.get(&CREDITORS, &scope, c).await?;
                    let of_account = found
                        .and_then(|row| serde_json::from_str::<serde_json::Value>(&row.doc).ok())
                        .is_some_and(|d| {
                            d.get("account").and_then(|v| v.as_str()) == Some(&a.to_hex())
                        });
                    if !of_account {
                        anyhow::bail!("no creditor {} in account {}", c.to_hex(), a.to_hex());
                    }
                }
            }
            let password = password_from_stdin()?;
            let op = crate::auth::operators::create_operator(
                store,
                &email,
                &password,
                account,
                creditor,
                clock.now().unix(),
            )
            .await?;
            Ok(serde_json::json!({
                "operator": op.id.to_hex(),
                "email": op.email,
                "account": op.account.map(|a| a.to_hex()),
                "creditor": op.creditor.map(|c| c.to_hex()),
                "sign_in": "/console",
            })
            .to_string())
        }
        AdminCommand::Operator(OperatorCommand::Disable { email }) => {
            set_operator_disabled(store, &email, true).await
        }
        AdminCommand::Operator(OperatorCommand::Enable { email }) => {
            set_operator_disabled(store, &email, false).await
        }
        AdminCommand::Operator(OperatorCommand::List) => {
            let lines: Vec<String> = store
                .console_operators()
                .await?
                .into_iter()
                .map(|op| {
                    serde_json::json!({
                        "operator": op.id.to_hex(),
                        "email": op.email,
                        "account": op.account.map(|a| a.to_hex()),
                        "creditor": op.creditor.map(|c| c.to_hex()),
                        "disabled": op.disabled,
                    })
                    .to_string()
                })
                .collect();
            Ok(lines.join("\n"))
        }
        AdminCommand::Operator(OperatorCommand::Password { email, .. }) => {
            let password = password_from_stdin()?;
            if password.chars().count() < crate::auth::operators::MIN_PASSWORD_CHARS {
                anyhow::bail!(
                    "the password must have at least {} characters",
                    crate::auth::operators::MIN_PASSWORD_CHARS
                );
            }
            let hash = crate::auth::operators::hash_password(&password)?;
            if !store
                .set_console_password(&email.trim().to_lowercase(), &hash)
                .await?
            {
                anyhow::bail!("no operator with the email {email}");
            }
            Ok(
                serde_json::json!({"email": email.trim().to_lowercase(), "password": "changed"})
                    .to_string(),
            )
        }
        AdminCommand::Account(AccountCommand::Create {
            name,
            organization_no,
            description,
            sandbox,
        }) => create_account(store, &clock, name, &organization_no, description, sandbox).await,
        AdminCommand::Creditor(CreditorCommand::Policy { creditor, json }) => {
            let creditor = oid(&creditor, "--creditor")?;
            creditor_policy(store, &clock, creditor, json.as_deref()).await
        }
        AdminCommand::FlowConfig(FlowConfigCommand::Show { id }) => {
            let id = id.as_deref().map(|i| oid(i, "--id")).transpose()?;
            show_flow_config(store, id).await
        }
        AdminCommand::FlowConfig(FlowConfigCommand::Add { json }) => {
            add_flow_config(store, &clock, &json).await
        }
        AdminCommand::Creditor(CreditorCommand::Create {
            account,
            name,
            organization_no,
            json,
        }) => {
            let account = oid(&account, "--account")?;
            create_creditor(
                store,
                &clock,
                account,
                &name,
                &organization_no,
                json.as_deref(),
            )
            .await
        }
        AdminCommand::ApiUser(ApiUserCommand::Create(args)) => {
            create_api_user(store, &clock, args).await
        }
    }
}

async fn create_account(
    store: &Store,
    clock: &dyn Clock,
    name: String,
    organization_no: &str,
    description: Option<String>,
    sandbox: bool,
) -> anyhow::Result<String> {
    let organization_no =
        parse_org_number(organization_no).map_err(|m| anyhow::anyhow!("--organization-no {m}"))?;
    anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
    let now = clock.now();
    let account = Account {
        id: ObjectId::at(now.unix()),
        name,
        description,
        organization_no,
        standard_debt_description: None,
        agreement_address: None,
        case_settings: CaseSettings {
            interest_rate: InterestRateSettings {
                reference_rate: true,
            },
        },
        created: now,
        updated: now,
        etag: String::new(),
    };
    let mut tx = store.begin().await?;
    tenancy::create_account(&mut tx, &account).await?;
    if sandbox {
        tx.insert_account_clock(&account.id).await?;
    }
    tx.commit().await?;
    let kind = if sandbox {
        "sandbox account"
    } else {
        "account"
    };
    Ok(format!("created {kind} {}", account.id))
}

async fn create_creditor(
    store: &Store,
    clock: &dyn Clock,
    account: ObjectId,
    name: &str,
    organization_no: &str,
    json: Option<&Path>,
) -> anyhow::Result<String> {
    let mut doc: Map<String, Value> = match json {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            match serde_json::from_str(&text)? {
                Value::Object(m) => m,
                _ => anyhow::bail!("{} must hold a JSON object", path.display()),
            }
        }
        None => Map::new(),
    };
    expand_dotted(&mut doc);
    doc.insert("account".into(), json!(account.to_hex()));
    doc.insert("name".into(), json!(name));
    doc.insert("organization_no".into(), json!(organization_no));
    let mut issues = validate(creditors::SCHEMA, &mut doc, Mode::Insert);
    if !issues.is_empty() {
        return Err(issues_error(&issues));
    }
    let now = clock.now();
    let mut creditor: Creditor =
        serde_json::from_value(Value::Object(creditors::with_server_fields(doc, now)))?;
    let id = creditor.id;
    creditors::check(&mut creditor, &mut issues, true);
    if !issues.is_empty() {
        return Err(issues_error(&issues));
    }
    let mut tx = store.begin().await?;
    if tx
        .get(&ACCOUNTS, &Scope::unrestricted(), &account)
        .await?
        .is_none()
    {
        anyhow::bail!("account {account} does not exist");
    }
    tenancy::create_creditor(&mut tx, &mut creditor).await?;
    tx.commit().await?;
    let state = if creditor.is_active {
        "active"
    } else {
        "inactive"
    };
    Ok(format!("created {state} creditor {id}"))
}

/// The algorithm a public key is for: given, or inferred from the key.
fn key_algorithm(pem: &str, given: Option<&str>) -> anyhow::Result<Algorithm> {
    if let Some(name) = given {
        let alg = Algorithm::parse(&name.to_ascii_uppercase()).ok_or_else(|| {
            anyhow::anyhow!("--algorithm must be one of ES256, ES384, ES512, RS256, RS384, RS512")
        })?;
        PublicKey::from_pem(pem, alg)
            .map_err(|e| anyhow::anyhow!("the public key does not fit {name}: {e}"))?;
        return Ok(alg);
    }
    [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::RS256,
    ]
    .into_iter()
    .find(|alg| PublicKey::from_pem(pem, *alg).is_ok())
    .ok_or_else(|| {
        anyhow::anyhow!(
            "not a usable public key: expected a PEM EC (P-256, P-384, P-521) or RSA (2048 bits or more) public key"
        )
    })
}

async fn create_api_user(
    store: &Store,
    clock: &dyn Clock,
    args: ApiUserArgs,
) -> anyhow::Result<String> {
    let account = match (&args.account, args.operator) {
        (_, true) => AGENCY_ACCOUNT,
        (Some(a), false) => oid(a, "--account")?,
        (None, false) => anyhow::bail!("give --account or --operator"),
    };
    let creditor = args
        .creditor
        .as_deref()
        .map(|c| oid(c, "--creditor"))
        .transpose()?;
    let key = match (&args.public_key, &args.out) {
        (Some(path), None) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let algorithm = key_algorithm(&pem, args.algorithm.as_deref())?;
            ApiKey::Public { pem, algorithm }
        }
        (None, Some(out)) => {
            anyhow::ensure!(
                !out.exists(),
                "{} exists; refusing to overwrite credentials",
                out.display()
            );
            ApiKey::Generate
        }
        _ => anyhow::bail!("give exactly one of --public-key and --out"),
    };
    let now = clock.now();
    let mut tx = store.begin().await?;
    if !args.operator
        && tx
            .get(&ACCOUNTS, &Scope::unrestricted(), &account)
            .await?
            .is_none()
    {
        anyhow::bail!("account {account} does not exist");
    }
    let creditor_doc: Option<Creditor> = match creditor {
        Some(c) => {
            let scope = Scope {
                account: Some(account),
                creditors: None,
            };
            let row = tx.get(&CREDITORS, &scope, &c).await?.ok_or_else(|| {
                anyhow::anyhow!("creditor {c} does not exist in account {account}")
            })?;
            Some(serde_json::from_str(&row.doc)?)
        }
        None => None,
    };
    let new = tenancy::create_api_user(
        &mut tx,
        account,
        creditor_doc.as_ref(),
        &args.name,
        key,
        now,
    )
    .await?;
    if let (Some(out), Some(private_pem)) = (&args.out, &new.private_key_pem) {
        // Written before the commit: a failure leaves neither the file nor the rows.
        let default_creditor = match creditor {
            Some(c) => Some(c),
            None => first_creditor(&mut tx, account).await?,
        };
        crate::sandbox::write_credentials(out, &new.credential, private_pem, default_creditor)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    }
    tx.commit().await?;
    Ok(match &args.out {
        Some(out) => format!(
            "created API user (api code {}); credentials written to {}; user {}",
            new.credential.api_code,
            out.display(),
            new.user.id
        ),
        None => format!(
            "created API user with api code {}; user {}",
            new.credential.api_code, new.user.id
        ),
    })
}

/// The account's oldest creditor, for the `creditor` field of a credentials file.
async fn first_creditor(
    tx: &mut crate::store::Tx<'_>,
    account: ObjectId,
) -> anyhow::Result<Option<ObjectId>> {
    let scope = Scope {
        account: Some(account),
        creditors: None,
    };
    let rows = tx
        .find(&CREDITORS, &scope, &crate::eve::Filter::True, 1)
        .await?;
    Ok(match rows.first() {
        Some(r) => Some(serde_json::from_str::<Creditor>(&r.doc)?.id),
        None => None,
    })
}

fn read_json(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

async fn creditor_policy(
    store: &Store,
    clock: &dyn Clock,
    creditor: ObjectId,
    json: Option<&Path>,
) -> anyhow::Result<String> {
    let mut tx = store.begin().await?;
    let row = tx
        .get(&CREDITORS, &Scope::unrestricted(), &creditor)
        .await?
        .ok_or_else(|| anyhow::anyhow!("creditor {creditor} does not exist"))?;
    let c: Creditor = serde_json::from_str(&row.doc)?;
    let mut book = crate::cases::RuleBook::new();
    let policy = match json {
        None => (*book.policy(&mut tx, &creditor).await?).clone(),
        Some(path) => {
            let policy: CreditorPolicy = serde_json::from_str(&read_json(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let mut problems = policy.problems();
            let default = FlowConfig::default_swedish().id;
            if policy.flow_config != default && tx.flow_config(&policy.flow_config).await?.is_none()
            {
                problems.push((
                    "flow_config".into(),
                    format!(
                        "no flow configuration {} (add it with `indriva admin flow-config add`)",
                        policy.flow_config
                    ),
                ));
            }
            if !problems.is_empty() {
                let list: Vec<String> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
                anyhow::bail!("invalid policy: {}", list.join("; "));
            }
            tx.set_creditor_policy(
                &creditor,
                &c.account,
                &serde_json::to_string(&policy)?,
                clock.now().unix(),
            )
            .await?;
            policy
        }
    };
    tx.commit().await?;
    Ok(serde_json::to_string_pretty(&policy)?)
}

async fn show_flow_config(store: &Store, id: Option<ObjectId>) -> anyhow::Result<String> {
    let config = match id {
        None => FlowConfig::default_swedish().clone(),
        Some(id) => {
            let mut tx = store.begin().await?;
            let doc = tx.flow_config(&id).await?;
            tx.commit().await?;
            match doc {
                Some(d) => serde_json::from_str(&d)?,
                None if id == FlowConfig::default_swedish().id => {
                    FlowConfig::default_swedish().clone()
                }
                None => anyhow::bail!("no flow configuration {id}"),
            }
        }
    };
    Ok(serde_json::to_string_pretty(&config)?)
}

async fn add_flow_config(store: &Store, clock: &dyn Clock, path: &Path) -> anyhow::Result<String> {
    let config: FlowConfig = serde_json::from_str(&read_json(path)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    anyhow::ensure!(
        config.id != FlowConfig::default_swedish().id,
        "give the configuration an _id of its own; {} is the built-in default",
        config.id
    );
    let problems = config.problems();
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        anyhow::bail!("invalid flow configuration: {}", list.join("; "));
    }
    let mut tx = store.begin().await?;
    tx.put_flow_config(
        &config.id,
        &serde_json::to_string(&config)?,
        clock.now().unix(),
    )
    .await?;
    tx.commit().await?;
    Ok(format!("stored flow configuration {}", config.id))
}
