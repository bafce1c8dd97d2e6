//! Routes of the WebSocket API.

use super::Authorizer;
use sockstack_contract::AccessProfile;

/// A route and the handler binary behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Route key: `$connect`, `$disconnect`, `$default` or a custom key.
    pub key: String,
    /// Handler binary.
    pub handler: String,
    /// Whether the handler's return value goes back to the sender.
    pub two_way: bool,
}

/// `$connect`: the only route that can carry an authorizer.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRoute {
    /// The route (key `$connect`).
    pub route: Route,
    /// The authorizer API Gateway runs before the handler.
    pub authorizer: Option<Authorizer>,
    /// The stack file accepts anonymous connections on purpose (no authorizer).
    pub public: bool,
}

/// The WebSocket API.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSocketApi {
    /// API name.
    pub name: String,
    /// How API Gateway picks a route from a message.
    pub route_selection_expression: String,
    /// `$connect`, if the stack has it.
    pub connect: Option<ConnectRoute>,
    /// Every other route, in stack-file order.
    pub routes: Vec<Route>,
}

impl WebSocketApi {
    /// Every route with the authorizer it carries (only ever `$connect`'s).
    pub fn all_routes(&self) -> impl Iterator<Item = (&Route, Option<&Authorizer>)> {
        self.connect
            .iter()
            .map(|c| (&c.route, c.authorizer.as_ref()))
            .chain(self.routes.iter().map(|r| (r, None)))
    }

    /// The authorizer, if `$connect` has one.
    pub fn authorizer(&self) -> Option<&Authorizer> {
        self.connect.as_ref().and_then(|c| c.authorizer.as_ref())
    }
}

/// Reserved route keys.
pub const CONNECT: &str = "$connect";
/// `$disconnect`.
pub const DISCONNECT: &str = "$disconnect";
/// `$default`.
pub const DEFAULT: &str = "$default";

/// The readable name a route key gives its resources: `$connect` → `Connect`,
/// `team-chat` → `TeamChat`.
pub fn route_name(key: &str) -> String {
    pascal_case(key.trim_start_matches('$'))
}

/// `team-chat_v2` → `TeamChatV2`: letters and digits only, each word capitalised.
pub fn pascal_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

/// The access profile of a route's handler: the built-in handler's, else what the
/// stack file says, else `reply`.
pub fn profile_for(handler: &str, declared: Option<AccessProfile>) -> AccessProfile {
    declared
        .or_else(|| AccessProfile::for_handler(handler))
        .unwrap_or(AccessProfile::Reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(route_name("$connect"), "Connect");
        assert_eq!(route_name("team-chat_v2"), "TeamChatV2");
        assert_eq!(route_name("vote"), "Vote");
    }
}
