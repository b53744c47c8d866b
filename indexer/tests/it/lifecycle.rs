//! The whole market lifecycle, indexed.

use crate::{Net, drive};

#[tokio::test]
async fn story_runs() {
    let net = Net::start().await;
    let story = drive::full_story(&net).await;
    eprintln!("{story:?}");
}
