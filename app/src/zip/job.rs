//! One zip download as the page follows it: what to zip, and how far it got.

use std::sync::Arc;

use futures::future::LocalBoxFuture;
use leptos::prelude::*;

use super::{Skipped, ZipBatch, ZipFile};
use crate::error::AppError;

/// Asks the server for the next page of a zip: the items of this request, and the key where the
/// first one continues. A user's own folder and a share link's ask through different functions.
pub type Pages = Arc<
    dyn Fn(Vec<String>, Option<String>) -> LocalBoxFuture<'static, Result<ZipBatch, AppError>>
        + Send
        + Sync,
>;

/// What to zip.
#[derive(Clone)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // read in the browser
pub struct Job {
    pub pages: Pages,
    /// Keys, and folders ending in `/`.
    pub items: Vec<String>,
    /// The archive's file name.
    pub name: String,
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // a zip ends in the browser
pub enum Status {
    Idle,
    Running,
    Saved,
    Cancelled,
    Failed(String),
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Running => "running",
            Status::Saved => "saved",
            Status::Cancelled => "cancelled",
            Status::Failed(_) => "failed",
        }
    }
}

/// A zip's progress, as the page shows it.
#[derive(Clone, Copy)]
pub struct Progress {
    /// Files written, files known so far.
    pub files: RwSignal<(u64, u64)>,
    /// Bytes written, bytes known so far.
    pub bytes: RwSignal<(u64, u64)>,
    pub current: RwSignal<String>,
    pub skipped: RwSignal<Vec<Skipped>>,
    pub status: RwSignal<Status>,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // the zip runs in the browser
impl Progress {
    pub fn idle() -> Self {
        Progress {
            files: RwSignal::new((0, 0)),
            bytes: RwSignal::new((0, 0)),
            current: RwSignal::new(String::new()),
            skipped: RwSignal::new(Vec::new()),
            status: RwSignal::new(Status::Idle),
        }
    }

    pub fn start(&self) {
        self.files.set((0, 0));
        self.bytes.set((0, 0));
        self.current.set(String::new());
        self.skipped.set(Vec::new());
        self.status.set(Status::Running);
    }

    pub fn skip(&self, skipped: Skipped) {
        self.skipped.update(|s| s.push(skipped));
    }

    pub fn found(&self, files: &[ZipFile]) {
        let bytes: i64 = files.iter().map(|f| f.size.max(0)).sum();
        self.files.update(|(_, known)| *known += files.len() as u64);
        self.bytes.update(|(_, known)| *known += bytes as u64);
    }

    pub fn cancelled(&self) -> bool {
        self.status.get_untracked() == Status::Cancelled
    }
}
