//! Which peers count as one address for the per-address limits (connections
//! held, connections opened per minute, and the refusal log's summaries).
//!
//! An IPv4 address is one host (or one NAT). An IPv6 host is usually given a
//! whole /64 and picks addresses in it at will, so counting single IPv6
//! addresses would let one host open a fresh "address" per connection: the
//! /64 is the unit instead. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
//! what a dual-stack `[::]` listener reports for an IPv4 peer) is that IPv4
//! address, so one client is counted the same whichever listener took it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A peer address as the per-address limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AddressGroup {
    /// One IPv4 address (also when it came IPv4-mapped over IPv6).
    V4(Ipv4Addr),
    /// An IPv6 /64: the address's first 64 bits.
    V6(u64),
}

impl AddressGroup {
    /// The group `address` belongs to.
    pub(crate) fn of(address: IpAddr) -> AddressGroup {
        match address {
            IpAddr::V4(v4) => AddressGroup::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddressGroup::V4(v4),
                None => AddressGroup::V6((v6.to_bits() >> 64) as u64),
            },
        }
    }
}

/// As an admin reads it: `192.0.2.1`, or `2001:db8:1:2::/64`.
impl fmt::Display for AddressGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressGroup::V4(v4) => write!(f, "{v4}"),
            AddressGroup::V6(prefix) => {
                write!(f, "{}/64", Ipv6Addr::from_bits(u128::from(*prefix) << 64))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(address: &str) -> AddressGroup {
        AddressGroup::of(address.parse().unwrap())
    }

    #[test]
    fn ipv6_addresses_in_one_slash_64_are_one_group() {
        assert_eq!(
            group("2001:db8:1:2::1"),
            group("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(group("2001:db8:1:2:abcd::9"), group("2001:db8:1:2::"));
        assert_ne!(group("2001:db8:1:2::1"), group("2001:db8:1:3::1"));
        assert_ne!(group("2001:db8:1:2::1"), group("2001:db9:1:2::1"));
    }

    #[test]
    fn ipv4_addresses_are_each_their_own_group() {
        assert_ne!(group("192.0.2.1"), group("192.0.2.2"));
        assert_eq!(group("192.0.2.1"), group("192.0.2.1"));
    }

    #[test]
    fn an_ipv4_mapped_ipv6_address_is_its_ipv4_address() {
        assert_eq!(group("::ffff:192.0.2.1"), group("192.0.2.1"));
        assert_ne!(group("::ffff:192.0.2.1"), group("::ffff:192.0.2.2"));
        // The loopback addresses of the two families stay apart: ::1 is not
        // IPv4-mapped.
        assert_ne!(group("::1"), group("127.0.0.1"));
    }

    #[test]
    fn groups_print_as_an_admin_reads_them() {
        assert_eq!(group("192.0.2.1").to_string(), "192.0.2.1");
        assert_eq!(group("::ffff:192.0.2.1").to_string(), "192.0.2.1");
        assert_eq!(
            group("2001:db8:1:2:3:4:5:6").to_string(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(group("::1").to_string(), "::/64");
    }
}
