#include "common/webhooks/address_policy.hpp"

#include <charconv>
#include <string_view>

namespace jobgate::webhooks {
namespace {

namespace ip = boost::asio::ip;

constexpr std::string_view metadata_reason = "a cloud metadata address";

// A refused range and the reason that refusal() returns for it.
struct refused_range {
  ip::address network;
  unsigned prefix;
  std::string_view reason;
};

// Builds the refused ranges of both families. The first range that contains an address gives the
// reason, so narrower ranges come before the ranges around them. IPv4-mapped and NAT64 addresses
// are judged as the IPv4 address inside them and never reach the IPv6 part.
std::vector<refused_range> make_refused_ranges() {
  const struct {
    const char* network;
    unsigned prefix;
    std::string_view reason;
  } table[] = {
      {"169.254.169.254", 32, metadata_reason},
      {"0.0.0.0", 8, "an unspecified address"},
      {"10.0.0.0", 8, "a private address"},
      {"100.64.0.0", 10, "a shared (carrier-grade NAT) address"},
      {"127.0.0.0", 8, "a loopback address"},
      {"169.254.0.0", 16, "a link-local address"},
      {"172.16.0.0", 12, "a private address"},
      {"192.0.0.0", 24, "an IETF protocol assignment address"},
      {"192.168.0.0", 16, "a private address"},
      {"198.18.0.0", 15, "a benchmarking address"},
      {"224.0.0.0", 4, "a multicast address"},
      {"255.255.255.255", 32, "a broadcast address"},
      {"240.0.0.0", 4, "a reserved address"},

      {"fd00:ec2::254", 128, metadata_reason},
      {"::", 128, "an unspecified address"},
      {"::1", 128, "a loopback address"},
      // The rest of ::/96 are the deprecated IPv4-compatible addresses (RFC 4291, 2.5.5.1).
      {"::", 96, "a reserved address"},
      {"64:ff9b:1::", 48, "a local-use NAT64 address"},
      {"fc00::", 7, "a private address"},
      {"fe80::", 10, "a link-local address"},
      {"fec0::", 10, "a site-local address"},
      {"ff00::", 8, "a multicast address"},
  };
  std::vector<refused_range> ranges;
  for (const auto& entry : table) {
    ranges.push_back({ip::make_address(entry.network), entry.prefix, entry.reason});
  }
  return ranges;
}

// Clears every bit of `address` after the first `prefix` bits.
ip::address network_of(const ip::address& address, unsigned prefix) {
  if (address.is_v4()) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return ip::address_v4(address.to_v4().to_uint() & mask);
  }
  auto bytes = address.to_v6().to_bytes();
  for (unsigned bit = prefix; bit < 128; ++bit) {
    bytes[bit / 8] &= static_cast<unsigned char>(~(0x80U >> (bit % 8)));
  }
  return ip::address_v6(bytes);
}

bool contains(const ip::address& network, unsigned prefix, const ip::address& address) {
  return network.is_v4() == address.is_v4() &&
         network_of(network, prefix) == network_of(address, prefix);
}

// Returns the IPv4 address inside an IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96)
// address, because connecting to either reaches that IPv4 address.
std::optional<ip::address> embedded_v4(const ip::address& address) {
  if (!address.is_v6()) {
    return std::nullopt;
  }
  const ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, v6);
  }
  static const ip::address nat64 = ip::make_address("64:ff9b::");
  if (contains(nat64, 96, address)) {
    const auto bytes = v6.to_bytes();
    return ip::address_v4({bytes[12], bytes[13], bytes[14], bytes[15]});
  }
  return std::nullopt;
}

std::string unknown_entry_error(const std::string& entry) {
  return "the allowlist entry \"" + entry +
         "\" is not \"loopback\", \"private\", an IP address or a CIDR range";
}

}  // namespace

std::optional<address_policy> address_policy::parse(const std::vector<std::string>& allow,
                                                    std::string& error) {
  address_policy policy;
  for (const auto& entry : allow) {
    if (entry == "loopback") {
      policy.allowed_.push_back({ip::make_address("127.0.0.0"), 8});
      policy.allowed_.push_back({ip::make_address("::1"), 128});
      continue;
    }
    if (entry == "private") {
      policy.allowed_.push_back({ip::make_address("10.0.0.0"), 8, false});
      policy.allowed_.push_back({ip::make_address("172.16.0.0"), 12, false});
      policy.allowed_.push_back({ip::make_address("192.168.0.0"), 16, false});
      policy.allowed_.push_back({ip::make_address("fc00::"), 7, false});
      continue;
    }

    // An address alone, or an address and a prefix length after "/".
    const std::size_t slash = entry.find('/');
    boost::system::error_code parse_error;
    const ip::address network = ip::make_address(entry.substr(0, slash), parse_error);
    if (parse_error) {
      error = unknown_entry_error(entry);
      return std::nullopt;
    }
    const unsigned max_prefix = network.is_v4() ? 32 : 128;
    unsigned prefix = max_prefix;
    if (slash != std::string::npos) {
      const char* first = entry.data() + slash + 1;
      const char* last = entry.data() + entry.size();
      const auto [end, errc] = std::from_chars(first, last, prefix);
      if (first == last || errc != std::errc{} || end != last) {
        error = unknown_entry_error(entry);
        return std::nullopt;
      }
      if (prefix > max_prefix) {
        error = "the allowlist entry \"" + entry + "\" has a prefix length above " +
                std::to_string(max_prefix);
        return std::nullopt;
      }
    }

    // A set bit after the prefix is most likely a typo in the address or in the length.
    const ip::address masked = network_of(network, prefix);
    if (masked != network_of(network, max_prefix)) {
      error = "the allowlist entry \"" + entry + "\" has bits set after the prefix; write " +
              masked.to_string() + "/" + std::to_string(prefix);
      return std::nullopt;
    }

    // An IPv4-mapped range is stored as the IPv4 range inside it, so it opens the plain IPv4
    // addresses too. Mapped addresses are judged as IPv4, so they still match it.
    if (network.is_v6() && network.to_v6().is_v4_mapped() && prefix >= 96) {
      const ip::address v4 = ip::make_address_v4(ip::v4_mapped, network.to_v6());
      policy.allowed_.push_back({v4, prefix - 96});
    } else {
      policy.allowed_.push_back({network, prefix});
    }
  }
  return policy;
}

std::optional<std::string> address_policy::refusal(const ip::address& address) const {
  static const std::vector<refused_range> refused = make_refused_ranges();

  const std::optional<ip::address> v4 = embedded_v4(address);
  const ip::address& judged = v4 ? *v4 : address;
  const refused_range* match = nullptr;
  for (const auto& range : refused) {
    if (contains(range.network, range.prefix, judged)) {
      match = &range;
      break;
    }
  }
  if (match == nullptr) {
    return std::nullopt;
  }

  for (const auto& range : allowed_) {
    if (match->reason == metadata_reason && !range.opens_metadata) {
      continue;
    }
    if (contains(range.network, range.prefix, address) ||
        contains(range.network, range.prefix, judged)) {
      return std::nullopt;
    }
  }
  return std::string(match->reason);
}

}  // namespace jobgate::webhooks
