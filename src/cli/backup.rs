//! `indriva backup` and `indriva restore`: one archive of the database snapshot (SQLite),
//! the media and the keys, written while the server runs ([`crate::backup`]).

use std::path::PathBuf;

use clap::Args;

use super::compose::StoreArgs;

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The archive to write (it must not exist).
    #[arg(long)]
    pub to: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The archive `indriva backup` wrote.
    #[arg(long)]
    pub from: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let store = args.store.open_existing().await?;
    let result = crate::backup::backup(&store, &args.store.data_dir, &args.to).await;
    store.close().await;
    let report = result?;
    println!(
        "wrote {} ({} bytes): {}, {} media file(s), keys",
        args.to.display(),
        report.bytes,
        if report.database {
            "the database"
        } else {
            "no database (PostgreSQL: back it up with pg_dump)"
        },
        report.media_files
    );
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let dir = &args.store.data_dir;
    let restored = crate::backup::unpack(&args.from, dir)?;
    let has_db = restored
        .iter()
        .any(|p| p == std::path::Path::new("indriva.db"));
    if args.store.database.is_some() || !has_db {
        println!(
            "unpacked {} file(s) into {}; the database is not in the archive: restore it with pg_restore/psql",
            restored.len(),
            dir.display()
        );
        return Ok(());
    }
    let store = args.store.open_existing().await?;
    let integrity = store.integrity().await;
    let cases = store.count_all(&crate::resources::CASES).await;
    store.close().await;
    let integrity = integrity?;
    if integrity != "ok" {
        anyhow::bail!("the restored database is damaged: {integrity}");
    }
    println!(
        "restored {} file(s) into {}: database ok, {} case(s)",
        restored.len(),
        dir.display(),
        cases?
    );
    Ok(())
}
