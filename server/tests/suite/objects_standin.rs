//! Managing objects against the AWS stand-in in strict mode: folders created, moved, copied
//! and deleted under session policies narrowed to the folders acted on.

use app::{error::AppError, objects::ssr as objects};
use sqlx::PgPool;

use crate::support::standin::{connected, folder, keys_under, put_object, READ_ALL, READ_WRITE};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn folders_are_created_moved_and_deleted_and_a_refusal_loses_nothing(pool: PgPool) {
    let (state, user, c) = connected(&pool, "organiser", READ_WRITE).await;
    let base = folder("org");
    let made =
        objects::create_folder(&state, user, c.id, "cv-work", &base[..base.len() - 1], "/x").await;
    assert_eq!(made.unwrap_err(), AppError::FolderNameInvalid);
    let root = objects::create_folder(
        &state,
        user,
        c.id,
        "cv-work",
        "",
        base.trim_end_matches('/'),
    )
    .await
    .unwrap();
    assert_eq!(root, base);
    let album = objects::create_folder(&state, user, c.id, "cv-work", &base, "album ✓")
        .await
        .unwrap();
    for name in ["a.txt", "deep/b.txt", "deep/er/c +%#?.txt"] {
        put_object("cv-work", &format!("{album}{name}"));
    }
    let before = keys_under("cv-work", &album);
    assert_eq!(before.len(), 4, "the marker and three objects: {before:?}");

    // A role that may read but not write: the move copies nothing, deletes nothing.
    let (reader_state, reader, rc) = connected(&pool, "organiser-reader", READ_ALL).await;
    let report = objects::copy(
        &reader_state,
        reader,
        rc.id,
        "cv-work",
        &album,
        &format!("{base}moved/"),
        true,
    )
    .await
    .unwrap();
    assert_eq!(report.done, 0);
    assert_eq!(report.failed.len(), 4);
    assert_eq!(keys_under("cv-work", &album), before);

    // The owner's role moves the folder: every key below it goes, nested ones too.
    let moved = format!("{base}moved/");
    let report = objects::copy(&state, user, c.id, "cv-work", &album, &moved, true)
        .await
        .unwrap();
    assert_eq!((report.done, report.failed.len()), (4, 0));
    assert!(keys_under("cv-work", &album).is_empty());
    let after = keys_under("cv-work", &moved);
    assert_eq!(
        after,
        before
            .iter()
            .map(|k| app::objects::destination(k, &album, &moved))
            .collect::<Vec<_>>()
    );

    // One object is renamed on its own (a HEAD, no listing), odd characters and all.
    let one = format!("{moved}deep/er/c +%#?.txt");
    let renamed = format!("{moved}renamed ✓.txt");
    let report = objects::copy(&state, user, c.id, "cv-work", &one, &renamed, true)
        .await
        .unwrap();
    assert_eq!((report.done, report.failed.len()), (1, 0));
    let now = keys_under("cv-work", &moved);
    assert!(now.contains(&renamed) && !now.contains(&one), "{now:?}");

    // Deleting a folder needs its name typed; then everything under it goes.
    let folders = [moved.clone()];
    let chosen = || objects::Chosen {
        within: &base,
        keys: &[],
        folders: &folders,
    };
    let refused = objects::delete(&state, user, c.id, "cv-work", chosen(), "yes").await;
    assert_eq!(refused.unwrap_err(), AppError::ConfirmationMismatch);
    let report = objects::delete(&state, user, c.id, "cv-work", chosen(), "moved")
        .await
        .unwrap();
    assert_eq!(
        (report.done, report.failed.len()),
        (4, 0),
        "the marker and three objects"
    );
    assert!(keys_under("cv-work", &moved).is_empty());

    // Keys outside the folder acted in are refused before AWS is asked.
    let outside = ["cv-elsewhere.txt".to_owned()];
    let sneaky = objects::Chosen {
        within: &base,
        keys: &outside,
        folders: &[],
    };
    assert_eq!(
        objects::delete(&state, user, c.id, "cv-work", sneaky, "")
            .await
            .unwrap_err(),
        AppError::KeyInvalid
    );
}
