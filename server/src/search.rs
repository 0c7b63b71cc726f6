//! `GET /api/search/<connection>/<bucket>?<the search>`: one walk request of a bucket search,
//! streamed as JSON lines while S3 lists (see `app::search`). A refusal before the walk starts
//! (a bad pattern, a location the user does not reach, S3 denying the listing) is an ordinary
//! error answer; once the walk runs, a failure is its last line.

use app::{
    auth::ssr::AuthSession,
    error::AppError,
    search::{
        ssr::{walk, Bounds},
        Search,
    },
    state::AppState,
    url::Query,
};
use axum::{
    body::Body,
    extract::{Path, RawQuery, State},
    http::header,
    response::{IntoResponse, Response},
};

pub async fn search(
    State(state): State<AppState>,
    auth: AuthSession,
    Path((connection, bucket)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let answer = async {
        let user = auth.user.as_ref().ok_or(AppError::Unauthorized)?;
        let connection: i64 = connection.parse().map_err(|_| AppError::NotFound)?;
        let search = Search::from_query(&Query::parse(&raw.unwrap_or_default()));
        let bounds = Bounds {
            max_keys: state.config.search_max_keys,
            // A quarter of the request's time is left to answer: the walk says where it
            // stopped before the deadline would cut it off.
            time: state.config.timeouts.request * 3 / 4,
        };
        let lines = walk(&state, user.id, connection, &bucket, &search, bounds).await?;
        Ok::<_, AppError>(Body::from_stream(futures::StreamExt::map(
            lines,
            Ok::<_, std::convert::Infallible>,
        )))
    };
    match answer.await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(err) => (
            err.status(),
            [(header::CACHE_CONTROL, "no-store")],
            err.to_string(),
        )
            .into_response(),
    }
}
