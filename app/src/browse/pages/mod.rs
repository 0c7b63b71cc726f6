//! The browsing pages, one file per view.

mod buckets;
mod details;
mod folder;
mod nav;
mod rows;

pub use buckets::BucketsPage;
pub use folder::BrowsePage;
