//! `paws serve`: loads the breed model and its CNN (start-up fails here, clearly, on a
//! missing or incompatible model), then serves until Ctrl-C or SIGTERM.

use anyhow::{bail, Context, Result};
use paws_args::ServeArgs;
use paws_serve::{Limits, Predictor};
use std::time::Duration;

pub fn run(args: ServeArgs) -> Result<()> {
    let defaults = Limits::default();
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds");
    }
    if !(0.0..=1.0).contains(&args.unsure_below) {
        bail!("--unsure-below must be between 0 and 1");
    }
    if args.workers == Some(0) {
        bail!("--workers must be at least 1");
    }
    let workers = args.workers.unwrap_or(defaults.workers);
    let limits = Limits {
        max_upload_bytes: args.max_upload_bytes,
        max_pixels: args.max_pixels,
        workers,
        queue: args.queue.unwrap_or(4 * workers),
        request_timeout: Duration::from_secs_f64(args.timeout),
        unsure_below: args.unsure_below,
    };

    let (model_path, model, extractor) = super::predict::load(args.model, args.cnn)?;
    let predictor = Predictor::new(model, &model_path, extractor)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        let addr = listener.local_addr()?;
        log::info!(
            "{} breeds, {} CNN worker(s), up to {} waiting; Ctrl-C stops",
            predictor.model().breeds.len(),
            limits.workers,
            limits.queue
        );
        // On stdout, for people and for scripts that started us on port 0.
        println!("paws serve: listening on http://{addr}/");
        let app = paws_serve::router(predictor, limits);
        paws_serve::serve(listener, app, paws_serve::shutdown_signal())
            .await
            .context("serving")?;
        log::info!("stopped");
        Ok(())
    })
}
