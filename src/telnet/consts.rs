//! The few RFC 854/1091 codes that nectar 0.4 does not name. Everything else
//! comes from `nectar::constants`, so tavern has one vocabulary.

/// Data Mark (RFC 854), the end of a Synch.
pub const DM: u8 = 242;
/// Break.
pub const BRK: u8 = 243;
/// Interrupt Process.
pub const IP: u8 = 244;
/// Abort Output.
pub const AO: u8 = 245;
/// Are You There.
pub const AYT: u8 = 246;
/// Erase Character.
pub const EC: u8 = 247;
/// Erase Line (nectar has it; re-exported here so commands read from one list).
pub const EL: u8 = nectar::constants::EL;
/// Go Ahead.
pub const GA: u8 = nectar::constants::GA;
/// No Operation.
pub const NOP: u8 = nectar::constants::NOP;
/// Terminal Type option (RFC 1091).
pub const TTYPE: u8 = 24;
/// TTYPE subnegotiation: IS.
pub const TTYPE_IS: u8 = 0;
/// TTYPE subnegotiation: SEND.
pub const TTYPE_SEND: u8 = 1;
/// Terminal speed (RFC 1079), which PuTTY offers.
pub const TSPEED: u8 = 32;
