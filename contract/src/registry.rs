//! The connection registry: the one table sockstack manages itself.
//!
//! One row per WebSocket connection, keyed by [`CONNECTION_ID`], expiring at
//! [`EXPIRES_AT`] (DynamoDB's TTL, which deletes lazily: readers filter expired
//! rows). Every authorizer-context key is stored as a top-level string attribute
//! of the same name, so a key the stack indexes (`connections.indexBy`) is the
//! partition key of its index and "everyone in group X" is one `Query`.
//! `$disconnect` replaces the row with a tombstone ([`CLOSED_AT`], no context
//! keys, so in no index); an open never overwrites a tombstone.

/// Logical id of the registry table in every template.
pub const LOGICAL_ID: &str = "ConnectionsTable";
/// Partition key: API Gateway's connection id (a string).
pub const CONNECTION_ID: &str = "connectionId";
/// When the connection was opened (epoch milliseconds).
pub const CONNECTED_AT: &str = "connectedAt";
/// Time to live (epoch seconds).
pub const EXPIRES_AT: &str = "expiresAt";
/// Set on a tombstone: when the connection was closed (epoch milliseconds).
pub const CLOSED_AT: &str = "closedAt";
/// How long a row lives: API Gateway's maximum connection time, two hours.
pub const TTL_SECONDS: u64 = 2 * 60 * 60;
/// Attribute names the registry uses itself: no authorizer-context key may take one.
pub const RESERVED_ATTRIBUTES: [&str; 4] = [CONNECTION_ID, CONNECTED_AT, EXPIRES_AT, CLOSED_AT];

/// Environment variable: the registry table's name.
pub const TABLE_ENV: &str = "CONNECTIONS_TABLE";
/// Environment variable: the indexed context keys and their index names, `key=Index,…`.
pub const INDEXES_ENV: &str = "CONNECTIONS_INDEXES";

/// The default index name for an indexed context key: `roomId` → `ByRoomId`.
pub fn index_name(key: &str) -> String {
    format!("By{}", crate::naming::pascal_case(key))
}

/// `[(key, index)]` as the value of [`INDEXES_ENV`], sorted by key.
pub fn format_indexes<'a>(indexes: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<_> = indexes.into_iter().collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, i)| format!("{k}={i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The value of [`INDEXES_ENV`] as `(key, index)` pairs; `None` if malformed.
pub fn parse_indexes(value: &str) -> Option<Vec<(String, String)>> {
    if value.trim().is_empty() {
        return Some(Vec::new());
    }
    value
        .split(',')
        .map(|pair| {
            let (k, i) = pair.split_once('=')?;
            let (k, i) = (k.trim(), i.trim());
            (!k.is_empty() && !i.is_empty()).then(|| (k.to_string(), i.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_follow_the_key() {
        assert_eq!(index_name("roomId"), "ByRoomId");
        assert_eq!(index_name("room"), "ByRoom");
    }

    #[test]
    fn indexes_round_trip_sorted() {
        let v = format_indexes([("userId", "ByUser"), ("roomId", "ByRoom")]);
        assert_eq!(v, "roomId=ByRoom,userId=ByUser");
        assert_eq!(
            parse_indexes(&v).unwrap(),
            vec![
                ("roomId".to_string(), "ByRoom".to_string()),
                ("userId".to_string(), "ByUser".to_string())
            ]
        );
        assert_eq!(parse_indexes("").unwrap(), vec![]);
        assert_eq!(parse_indexes("roomId"), None);
        assert_eq!(parse_indexes("=x"), None);
    }
}
