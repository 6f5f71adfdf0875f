//! `indriva audit`: the audit trail, newest first, one JSON event per line.

use clap::Args;

use super::compose::StoreArgs;

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only this account's events.
    #[arg(long)]
    pub account: Option<String>,
    /// Only the events of this document (a case's id, …).
    #[arg(long)]
    pub item: Option<String>,
    /// How many events.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    use crate::eve::{Filter, Paging, Sort, Val};
    let mut parts = Vec::new();
    if let Some(a) = &args.account {
        let id = crate::domain::ObjectId::parse(a)
            .map_err(|_| anyhow::anyhow!("--account {a} is not an id"))?;
        parts.push(Filter::eq("account", Val::Oid(id)));
    }
    if let Some(i) = &args.item {
        let id = crate::domain::ObjectId::parse(i)
            .map_err(|_| anyhow::anyhow!("--item {i} is not an id"))?;
        parts.push(Filter::eq("writes.item", Val::Oid(id)));
    }
    let filter = match parts.len() {
        0 => Filter::True,
        _ => Filter::And(parts),
    };
    let store = args.store.open_existing().await?;
    let page = store
        .list(
            &crate::resources::AUDIT_EVENTS,
            &crate::store::ListQuery {
                scope: &crate::scope::Scope::unrestricted(),
                filter: &filter,
                sort: &Sort::parse("-_created,-_id")?,
                paging: Paging {
                    page: 1,
                    max_results: args.limit.max(1),
                },
                search: &[],
            },
        )
        .await;
    store.close().await;
    for row in page?.rows {
        println!("{}", row.doc);
    }
    Ok(())
}
