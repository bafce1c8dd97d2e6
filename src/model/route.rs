//! Routes of the WebSocket API.

use super::Authorizer;
use crate::check::websocket::check_route_key;
use crate::config::show;
use std::fmt;

/// A route key that API Gateway accepts: `$connect`, `$disconnect`, `$default`
/// or a custom key without white space, control or bidirectional-text characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouteKey(String);

impl RouteKey {
    /// Checks `key`; the error says why it is not one. A control character or a
    /// bidirectional override, isolate or mark (which would make the key read differently
    /// from what it is) is refused and shown as an escape, never raw.
    pub fn parse(key: &str) -> Result<RouteKey, String> {
        if let Some((i, c)) = key.chars().enumerate().find(|(_, c)| show::is_hidden(*c)) {
            let what = if show::is_bidi_control(c) {
                "a bidirectional-text control character"
            } else {
                "a control character"
            };
            return Err(format!(
                "route key `{}` contains {what}, {}, at character {}",
                show::quote(key),
                show::escape_char(c),
                i + 1
            ));
        }
        check_route_key(key).map(|()| RouteKey(key.to_string()))
    }

    /// The key as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a custom key (not `$connect`, `$disconnect` or `$default`).
    pub fn is_custom(&self) -> bool {
        !self.0.starts_with('$')
    }

    /// The readable name its resources get: `$connect` → `Connect`.
    pub fn name(&self) -> String {
        route_name(&self.0)
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A route and the function behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Route key.
    pub key: RouteKey,
    /// The function (a `functions:` name).
    pub function: String,
    /// Whether the function's return value goes back to the sender.
    pub two_way: bool,
}

/// Who may open a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectAuth {
    /// A JWT verified by the authorizer function.
    Jwt(Authorizer),
    /// Anyone: the stack file said `public: true`.
    Public,
}

/// `$connect`: the only route that can carry an authorizer.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRoute {
    /// The route (key `$connect`).
    pub route: Route,
    /// Who may connect.
    pub auth: ConnectAuth,
}

/// The WebSocket API.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSocketApi {
    /// API name.
    pub name: String,
    /// How API Gateway picks a route from a message.
    pub route_selection_expression: String,
    /// `$connect`; `None` only when the stack file says `public: true` at the top.
    pub connect: Option<ConnectRoute>,
    /// Every other route, in stack-file order.
    pub routes: Vec<Route>,
}

impl WebSocketApi {
    /// Every route with the authorizer it carries (only ever `$connect`'s).
    pub fn all_routes(&self) -> impl Iterator<Item = (&Route, Option<&Authorizer>)> {
        self.connect
            .iter()
            .map(|c| {
                (
                    &c.route,
                    match &c.auth {
                        ConnectAuth::Jwt(a) => Some(a),
                        ConnectAuth::Public => None,
                    },
                )
            })
            .chain(self.routes.iter().map(|r| (r, None)))
    }

    /// The authorizer, if `$connect` has one.
    pub fn authorizer(&self) -> Option<&Authorizer> {
        match &self.connect.as_ref()?.auth {
            ConnectAuth::Jwt(a) => Some(a),
            ConnectAuth::Public => None,
        }
    }

    /// Whether `$connect` accepts anyone on purpose.
    pub fn public_connect(&self) -> bool {
        matches!(
            self.connect.as_ref().map(|c| &c.auth),
            Some(ConnectAuth::Public)
        )
    }

    /// The custom route keys, sorted (the value of `ROUTE_KEYS`).
    pub fn custom_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .routes
            .iter()
            .filter(|r| r.key.is_custom())
            .map(|r| r.key.as_str())
            .collect();
        keys.sort_unstable();
        keys
    }
}

/// Reserved route keys.
pub const CONNECT: &str = "$connect";
/// `$disconnect`.
pub const DISCONNECT: &str = "$disconnect";
/// `$default`.
pub const DEFAULT: &str = "$default";

/// The readable name a route key gives its resources: `$connect` → `Connect`,
/// `room-chat` → `RoomChat`.
pub fn route_name(key: &str) -> String {
    pascal_case(key.trim_start_matches('$'))
}

/// `room-chat_v2` → `RoomChatV2`: letters and digits only, each word capitalised.
pub fn pascal_case(s: &str) -> String {
    sockstack_contract::naming::pascal_case(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(route_name("$connect"), "Connect");
        assert_eq!(route_name("room-chat_v2"), "RoomChatV2");
        assert_eq!(route_name("send"), "Send");
    }

    #[test]
    fn route_keys_are_checked() {
        assert!(RouteKey::parse("$connect").is_ok());
        assert!(RouteKey::parse("send").unwrap().is_custom());
        assert!(RouteKey::parse("$send").is_err());
        assert!(RouteKey::parse("a b").is_err());
    }
}
