//! The application context: what every use case ([`crate::actions`]) works with, whoever
//! calls it — an HTTP route, a console page, a command, the seed or the worker. It is built
//! once by the composition root (`cli::compose`) and knows nothing of HTTP.

use std::sync::Arc;

use crate::cases::Engine;
use crate::clocks::Clocks;
use crate::media::Media;
use crate::registrar::Registrar;
use crate::store::Store;

#[derive(Clone)]
pub struct App {
    pub store: Arc<Store>,
    /// Real time, and each account's time (a sandbox account's clock).
    pub clocks: Clocks,
    /// The flow engine's settings (the reference-rate table, batch size).
    pub engine: Engine,
    /// Uploaded invoices and rendered letters.
    pub media: Media,
    /// The agency's bankgiro number: bank files must pay into it.
    pub bankgiro: String,
    /// Writes case registrations in batches (group commit).
    pub registrar: Registrar,
}

impl App {
    /// The context over `store`; starts the registration writer on the current runtime.
    pub fn new(
        store: Arc<Store>,
        clocks: Clocks,
        engine: Engine,
        media: Media,
        bankgiro: String,
    ) -> App {
        let registrar = Registrar::start(store.clone(), engine.clone());
        App {
            store,
            clocks,
            engine,
            media,
            bankgiro,
            registrar,
        }
    }
}
