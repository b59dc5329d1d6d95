#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobgate::webhooks {

// Decides which addresses a webhook may be delivered to. By default only public unicast
// addresses pass: loopback, private, link-local, shared (carrier-grade NAT), cloud metadata,
// unspecified, multicast and reserved ranges are refused, and so are IPv4-mapped IPv6 forms of
// them. An allowlist opens chosen ranges again, for local development and tests.
class address_policy {
 public:
  // Refuses every non-public address.
  address_policy() = default;

  // Entries are "loopback", "private", an address ("127.0.0.1", "::1") or a CIDR range
  // ("10.20.0.0/16", "fd00::/8"). Returns nullopt and sets `error` to a sentence naming the entry
  // that is not understood.
  static std::optional<address_policy> parse(const std::vector<std::string>& allow,
                                             std::string& error);

  // nullopt when a delivery may connect to the address, else why not, e.g. "a private address".
  std::optional<std::string> refusal(const boost::asio::ip::address& address) const;

 private:
  struct range {
    boost::asio::ip::address network;
    unsigned prefix = 0;
    // False for the "private" keyword, so it cannot open the cloud metadata address fd00:ec2::254.
    bool opens_metadata = true;
  };
  std::vector<range> allowed_;
};

}  // namespace jobgate::webhooks
