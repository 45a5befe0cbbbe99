//! The one way this crate connects to Redis (feature `redis`), shared by the revocation and the
//! throttle stores.

use std::time::Duration;

use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    Client, RedisError,
};

/// A connection manager for `url` (`redis://host:port/db`) with bounded reconnects: every call
/// is bounded by its store's timeout anyway, and a failed call makes the manager reconnect in
/// the background.
pub(crate) async fn connect(url: &str) -> Result<ConnectionManager, RedisError> {
    let client = Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_millis(500))
        .set_response_timeout(Duration::from_secs(2))
        .set_number_of_retries(2)
        .set_max_delay(500);
    ConnectionManager::new_with_config(client, config).await
}
