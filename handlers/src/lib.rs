//! Lambda functions of the sockstack WebSocket backend (filled by the handlers issue).
pub use sockstack_contract as contract;
