//! Pagination of list requests (`first`/`last`/`cursor`), as Open Payments defines it.

use std::collections::HashMap;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::RsError;
use crate::signed::Incoming;

/// `wallet-address`, `first`/`last` (1–100) and `cursor` of a list request (§6.4).
#[derive(Debug)]
pub(super) struct PageRequest {
    pub(super) wallet: String,
    first: Option<usize>,
    last: Option<usize>,
    cursor: Option<Uuid>,
}

impl PageRequest {
    pub(super) fn parse(incoming: &Incoming) -> Result<Self, RsError> {
        let query = incoming
            .path_and_query
            .split_once('?')
            .map_or("", |(_, q)| q);
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let invalid = |what: &str| {
            RsError::bad_request(format!("Received error validating OpenAPI request: {what}"))
        };
        let wallet = params
            .get("wallet-address")
            .cloned()
            .ok_or_else(|| invalid("query parameter wallet-address is required"))?;
        let count = |name: &str| -> Result<Option<usize>, RsError> {
            params
                .get(name)
                .map(|v| {
                    v.parse::<usize>()
                        .ok()
                        .filter(|n| (1..=100).contains(n))
                        .ok_or_else(|| invalid(&format!("{name} must be between 1 and 100")))
                })
                .transpose()
        };
        let first = count("first")?;
        let last = count("last")?;
        let cursor = params
            .get("cursor")
            .map(|c| Uuid::parse_str(c).map_err(|_| invalid("cursor must be a resource id")))
            .transpose()?;
        if first.is_some() && last.is_some() {
            return Err(invalid("first and last are mutually exclusive"));
        }
        if last.is_some() && cursor.is_none() {
            return Err(invalid("last needs a cursor"));
        }
        Ok(Self {
            wallet,
            first,
            last,
            cursor,
        })
    }

    /// The list response for `rows` (oldest first): this page's items and its pagination.
    pub(super) fn respond<T>(
        &self,
        rows: &[T],
        id: impl Fn(&T) -> Uuid,
        view: impl Fn(&T) -> Value,
    ) -> Result<Response, RsError> {
        let ids: Vec<Uuid> = rows.iter().map(id).collect();
        let (range, info) = self.select(&ids)?;
        let result: Vec<Value> = rows[range].iter().map(view).collect();
        Ok(Json(json!({ "pagination": info, "result": result })).into_response())
    }

    /// Which slice of `ids` (oldest first) this page is, and its pagination object.
    fn select(&self, ids: &[Uuid]) -> Result<(std::ops::Range<usize>, Value), RsError> {
        let position = |cursor: Uuid| {
            ids.iter()
                .position(|id| *id == cursor)
                .ok_or_else(|| RsError::bad_request("invalid cursor"))
        };
        let range = match (self.last, self.cursor) {
            (Some(last), Some(cursor)) => {
                let end = position(cursor)?;
                end.saturating_sub(last)..end
            }
            (_, cursor) => {
                let start = match cursor {
                    Some(cursor) => position(cursor)? + 1,
                    None => 0,
                };
                let first = self.first.unwrap_or(20);
                start..(start + first).min(ids.len())
            }
        };
        let mut info = serde_json::Map::new();
        if !range.is_empty() {
            info.insert("startCursor".into(), json!(ids[range.start].to_string()));
            info.insert("endCursor".into(), json!(ids[range.end - 1].to_string()));
        }
        info.insert("hasNextPage".into(), json!(range.end < ids.len()));
        info.insert("hasPreviousPage".into(), json!(range.start > 0));
        let info = Value::Object(info);
        Ok((range, info))
    }
}
