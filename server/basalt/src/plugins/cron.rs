//! Plugins' cron jobs on core's schedule parser (the one scheduled backups use):
//! checked every tick (at most a minute apart), each job runs at most once per
//! matching minute, on the blocking pool, never two runs of one job at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use basalt_core::cron::Schedule;

use super::{contained, Runtime};

struct Job {
    plugin: usize,
    index: usize,
    schedule: Schedule,
    running: Arc<AtomicBool>,
    /// The minute (Unix minutes) of the last run.
    last: Option<i64>,
}

/// Starts the scheduler task when any plugin registered a job.
pub fn start(
    runtime: Arc<Runtime>,
    tick: Duration,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let mut jobs = Vec::new();
    for (p, plugin) in runtime.plugins.iter().enumerate() {
        for (index, job) in plugin.registry.crons.iter().enumerate() {
            let schedule = Schedule::parse(&job.schedule).map_err(|e| {
                anyhow::anyhow!("plugin {}: cron job {}: {e}", plugin.name, job.name)
            })?;
            jobs.push(Job {
                plugin: p,
                index,
                schedule,
                running: Arc::default(),
                last: None,
            });
        }
    }
    if jobs.is_empty() {
        return Ok(None);
    }
    let tick = tick.clamp(Duration::from_millis(10), Duration::from_secs(60));
    Ok(Some(tokio::spawn(run(runtime, jobs, tick))))
}

async fn run(runtime: Arc<Runtime>, mut jobs: Vec<Job>, tick: Duration) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        interval.tick().await;
        let now = chrono::Utc::now();
        let minute = now.timestamp().div_euclid(60);
        for job in &mut jobs {
            if job.last == Some(minute) || !job.schedule.matches(now.timestamp()) {
                continue;
            }
            if job.running.swap(true, Ordering::SeqCst) {
                continue;
            }
            job.last = Some(minute);
            let (runtime, running) = (runtime.clone(), job.running.clone());
            let (p, i) = (job.plugin, job.index);
            tokio::task::spawn_blocking(move || {
                let plugin = &runtime.plugins[p];
                let cron = &plugin.registry.crons[i];
                match contained(&plugin.name, "cron", || (cron.job)(&*plugin.host)) {
                    Ok(Ok(())) => {
                        tracing::debug!(plugin = %plugin.name, job = %cron.name, "cron job done")
                    }
                    Ok(Err(e)) => {
                        tracing::error!(plugin = %plugin.name, job = %cron.name, error = %e, "cron job failed")
                    }
                    Err(_) => {}
                }
                running.store(false, Ordering::SeqCst);
            });
        }
    }
}
