"""sandbox/outbound.py: which addresses are public, the only ones an address a person typed
may reach."""

import pytest

from sandbox import outbound


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fd00::1", "fe80::1", "224.0.0.1"],
)
def test_private_shared_and_multicast_ranges_are_not_public(address):
    assert not outbound.is_public(address)


def test_a_public_address_is_public():
    assert outbound.is_public("151.101.1.1")
    assert outbound.is_public("2a04:4e42::1")
