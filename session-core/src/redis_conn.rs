//! The one way this crate connects to Redis (feature `redis`), shared by the revocation and the
//! throttle stores: one server through a connection manager, or a Redis Cluster.

use std::time::Duration;

use redis::{
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
    Client, Cmd, Pipeline, RedisError, RedisFuture, Value,
};

/// How long connecting to one server (or one cluster node) may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one command may wait for its answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// A connection manager for `url` (`redis://host:port/db`) with bounded reconnects: every call
/// is bounded by its store's timeout anyway, and a failed call makes the manager reconnect in
/// the background.
pub(crate) async fn connect(url: &str) -> Result<ConnectionManager, RedisError> {
    manage(Client::open(url)?).await
}

/// A connection manager for `client`'s server, bounded as in [`connect`].
pub(crate) async fn manage(client: Client) -> Result<ConnectionManager, RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(CONNECTION_TIMEOUT)
        .set_response_timeout(RESPONSE_TIMEOUT)
        .set_number_of_retries(2)
        .set_max_delay(500);
    ConnectionManager::new_with_config(client, config).await
}

/// A connection to the Redis Cluster that `urls` (`redis://host:port`, any of its nodes) belong
/// to, with the same bounds as [`connect`]: the cluster client follows `MOVED`/`ASK` and
/// refreshes its slot map by itself, with two retries at most per command.
pub(crate) async fn connect_cluster<I, S>(urls: I) -> Result<ClusterConnection, RedisError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let urls: Vec<String> = urls.into_iter().map(|u| u.as_ref().to_owned()).collect();
    ClusterClient::builder(urls)
        .connection_timeout(CONNECTION_TIMEOUT)
        .response_timeout(RESPONSE_TIMEOUT)
        .retries(2)
        .max_retry_wait(500)
        .build()?
        .get_async_connection()
        .await
}

/// The connection a Redis-backed store holds: commands and scripts are written once against
/// [`ConnectionLike`] and run unchanged on either.
#[derive(Clone)]
pub(crate) enum Conn {
    /// One server (or a proxy in front of many).
    Single(ConnectionManager),
    /// A Redis Cluster: each command goes to the node owning its keys' slot, so a command or
    /// script touching several keys needs them in one slot (see [`cluster_prefix`]).
    Cluster(ClusterConnection),
}

impl Conn {
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

/// The hash tag Redis Cluster hashes `key` by, if it has one: the bytes between the first `{`
/// and the first `}` after it, when there is at least one. (Keep in sync with Redis's
/// `keyHashSlot`.)
fn hash_tag(key: &str) -> Option<&str> {
    let open = key.find('{')?;
    let len = key[open + 1..].find('}')?;
    (len > 0).then(|| &key[open + 1..open + 1 + len])
}

/// `prefix` made fit for a cluster: every key starting with the result hashes to the same slot,
/// whatever follows it.
///
/// Invariant: the result has a hash tag that ends inside it, so the characters a key adds after
/// the prefix (a session id, a user id that may contain `{` or `}`) never move the key to
/// another slot. A prefix that has such a tag already is kept as it is; any other is wrapped in
/// braces (`"app:"` → `"{app:}"`); one that wrapping cannot fix (empty, or starting with `}`)
/// gets `{<fallback>}` in front (`""` → `"{session-core}"`).
pub(crate) fn cluster_prefix(prefix: &str, fallback: &str) -> String {
    if hash_tag(prefix).is_some() {
        return prefix.to_owned();
    }
    let wrapped = format!("{{{prefix}}}");
    if hash_tag(&wrapped).is_some() {
        wrapped
    } else {
        format!("{{{fallback}}}{prefix}")
    }
}

#[cfg(test)]
mod tests {
    use super::{cluster_prefix, hash_tag};

    #[test]
    fn hash_tag_follows_the_redis_rule() {
        for (key, tag) in [
            ("{user1000}.following", Some("user1000")),
            ("foo{}{bar}", None),
            ("foo{{bar}}zap", Some("{bar")),
            ("foo{bar}{zap}", Some("bar")),
            ("no tag", None),
            ("open{only", None),
            ("}{x}", Some("x")),
        ] {
            assert_eq!(hash_tag(key), tag, "{key}");
        }
    }

    #[test]
    fn cluster_prefix_pins_every_key_to_the_prefix_slot() {
        let suffixes = ["", "sid:abc", "user:}", "user:{x}", "user:{", "}{y}", "{}"];
        for prefix in [
            "", "app:", "{app}:", "app{", "app}", "}app", "{}app:", "a{}b{c}", "{", "}",
        ] {
            let fixed = cluster_prefix(prefix, "session-core");
            let tag = hash_tag(&fixed).unwrap_or_else(|| panic!("{prefix:?} → {fixed:?}"));
            for suffix in suffixes {
                assert_eq!(
                    hash_tag(&format!("{fixed}{suffix}")),
                    Some(tag),
                    "{prefix:?} + {suffix:?}"
                );
            }
        }
    }

    #[test]
    fn cluster_prefix_keeps_a_tag_and_wraps_the_rest() {
        assert_eq!(cluster_prefix("{app}:", "f"), "{app}:");
        assert_eq!(cluster_prefix("x{app}:", "f"), "x{app}:");
        assert_eq!(cluster_prefix("app:", "f"), "{app:}");
        assert_eq!(cluster_prefix("a{}b:", "f"), "{a{}b:}");
        assert_eq!(cluster_prefix("", "f"), "{f}");
        assert_eq!(cluster_prefix("}app", "f"), "{f}}app");
    }
}
