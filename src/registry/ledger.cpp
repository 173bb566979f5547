#include "registry/ledger.h"

#include <openssl/sha.h>

namespace carbon::registry {
namespace {

void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_string(std::vector<std::uint8_t>& out, const std::string& s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace

std::vector<std::uint8_t> canonical_bytes(const LedgerEntry& entry) {
  std::vector<std::uint8_t> out;
  out.reserve(64 + entry.instrument.size() + entry.reference.size());
  out.push_back(1);  // encoding version
  put_u64(out, entry.entry_id);
  put_u64(out, entry.sequence);
  put_u64(out, static_cast<std::uint64_t>(entry.recorded_at));
  put_string(out, entry.instrument);
  put_u64(out, entry.from_account);
  put_u64(out, entry.to_account);
  put_u64(out, static_cast<std::uint64_t>(entry.quantity.value));
  out.push_back(static_cast<std::uint8_t>(entry.kind));
  put_string(out, entry.reference);
  return out;
}

Hash chain_hash(const Hash& prev_hash, const LedgerEntry& entry) {
  std::vector<std::uint8_t> bytes(prev_hash.begin(), prev_hash.end());
  const std::vector<std::uint8_t> body = canonical_bytes(entry);
  bytes.insert(bytes.end(), body.begin(), body.end());
  Hash out{};
  SHA256(bytes.data(), bytes.size(), out.data());
  return out;
}

std::string to_hex(const Hash& hash) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint8_t byte : hash) {
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 15]);
  }
  return out;
}

const LedgerEntry& Ledger::append(LedgerEntry entry) {
  entry.entry_id = last_entry_id_ + 1;
  entry.prev_hash = last_hash_;
  entry.hash = chain_hash(last_hash_, entry);
  last_entry_id_ = entry.entry_id;
  last_hash_ = entry.hash;
  last_ = std::move(entry);
  return last_;
}

void Ledger::restore_tail(std::uint64_t last_entry_id, const Hash& last_hash) {
  last_entry_id_ = last_entry_id;
  last_hash_ = last_hash;
}

std::optional<std::uint64_t> first_bad_entry(const std::vector<LedgerEntry>& entries, Hash prev_hash) {
  for (const LedgerEntry& entry : entries) {
    if (entry.prev_hash != prev_hash || chain_hash(prev_hash, entry) != entry.hash) return entry.entry_id;
    prev_hash = entry.hash;
  }
  return std::nullopt;
}

}  // namespace carbon::registry
