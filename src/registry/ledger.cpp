#include "registry/ledger.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

namespace carbon::registry {
namespace {

// Fixed part of the canonical encoding: version, 6 u64 and 2 u32 length prefixes and the kind.
constexpr std::size_t kFixedCanonicalBytes = 1 + 8 * 6 + 4 * 2 + 1;
// Entries whose prev_hash plus canonical bytes fit here are hashed without touching the heap.
constexpr std::size_t kStackBufferBytes = 512;

std::uint8_t* put_u64(std::uint8_t* out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) *out++ = static_cast<std::uint8_t>(v >> shift);
  return out;
}
std::uint8_t* put_string(std::uint8_t* out, const std::string& s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) *out++ = static_cast<std::uint8_t>(n >> shift);
  if (!s.empty()) std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

// SHA-256 through a digest fetched once and a context reused per thread. OpenSSL 3's
// one-shot SHA256() fetches the algorithm on every call, which costs about three
// times the hash of a ledger entry itself (BENCHMARKS.md, "Registry").
class Sha256 {
 public:
  Sha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
    if (md_ == nullptr || ctx_ == nullptr) std::abort();  // no default provider: nothing can be hashed
  }
  ~Sha256() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void digest(const std::uint8_t* data, std::size_t size, Hash& out) {
    unsigned int length = 0;
    if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1 || EVP_DigestUpdate(ctx_, data, size) != 1 ||
        EVP_DigestFinal_ex(ctx_, out.data(), &length) != 1) {
      std::abort();  // fails only when memory is exhausted
    }
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

void sha256_into(const std::uint8_t* data, std::size_t size, Hash& out) {
  thread_local Sha256 hasher;
  hasher.digest(data, size, out);
}

std::size_t canonical_size(const LedgerEntry& entry) {
  return kFixedCanonicalBytes + entry.instrument.size() + entry.reference.size();
}

// Writes canonical_bytes(entry) at `out`, which has room for canonical_size(entry) bytes.
void encode(std::uint8_t* out, const LedgerEntry& entry) {
  *out++ = 1;  // encoding version
  out = put_u64(out, entry.entry_id);
  out = put_u64(out, entry.sequence);
  out = put_u64(out, static_cast<std::uint64_t>(entry.recorded_at));
  out = put_string(out, entry.instrument);
  out = put_u64(out, entry.from_account);
  out = put_u64(out, entry.to_account);
  out = put_u64(out, static_cast<std::uint64_t>(entry.quantity.value));
  *out++ = static_cast<std::uint8_t>(entry.kind);
  put_string(out, entry.reference);
}

}  // namespace

std::vector<std::uint8_t> canonical_bytes(const LedgerEntry& entry) {
  std::vector<std::uint8_t> out(canonical_size(entry));
  encode(out.data(), entry);
  return out;
}

Hash chain_hash(const Hash& prev_hash, const LedgerEntry& entry) {
  const std::size_t size = prev_hash.size() + canonical_size(entry);
  Hash out{};
  if (size <= kStackBufferBytes) {
    std::uint8_t bytes[kStackBufferBytes];
    std::memcpy(bytes, prev_hash.data(), prev_hash.size());
    encode(bytes + prev_hash.size(), entry);
    sha256_into(bytes, size, out);
  } else {
    std::vector<std::uint8_t> bytes(size);
    std::memcpy(bytes.data(), prev_hash.data(), prev_hash.size());
    encode(bytes.data() + prev_hash.size(), entry);
    sha256_into(bytes.data(), size, out);
  }
  return out;
}

Hash sha256(const std::uint8_t* data, std::size_t size) {
  Hash out{};
  sha256_into(data, size, out);
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

ChainVerification verify_chain(std::span<const LedgerEntry> entries, const Hash& prev_hash,
                               std::uint64_t first_entry_id) {
  ChainVerification out;
  const Hash* previous = &prev_hash;
  std::uint64_t expected_id = first_entry_id;
  for (const LedgerEntry& entry : entries) {
    if (first_entry_id != 0 && entry.entry_id != expected_id) {
      out.fault = ChainFault::wrong_entry_id;
    } else if (entry.prev_hash != *previous) {
      out.fault = ChainFault::broken_link;
    } else if (chain_hash(entry.prev_hash, entry) != entry.hash) {
      out.fault = ChainFault::wrong_hash;
    }
    if (out.fault != ChainFault::none) {
      out.first_bad_entry_id = entry.entry_id;
      return out;
    }
    previous = &entry.hash;
    ++expected_id;
    ++out.entries_checked;
  }
  return out;
}

std::optional<std::uint64_t> first_bad_entry(const std::vector<LedgerEntry>& entries, Hash prev_hash) {
  const ChainVerification result = verify_chain(entries, prev_hash);
  if (result.ok()) return std::nullopt;
  return result.first_bad_entry_id;
}

std::vector<LedgerEntry> history_of(std::span<const LedgerEntry> entries, AccountId account) {
  std::vector<LedgerEntry> out;
  for (const LedgerEntry& entry : entries) {
    if (entry.from_account == account || entry.to_account == account) out.push_back(entry);
  }
  return out;
}

const char* to_string(TransferKind kind) {
  switch (kind) {
    case TransferKind::issuance: return "issuance";
    case TransferKind::trade: return "trade";
    case TransferKind::allocation: return "allocation";
    case TransferKind::surrender: return "surrender";
    case TransferKind::retirement: return "retirement";
    case TransferKind::correction: return "correction";
    case TransferKind::transfer: return "transfer";
    case TransferKind::freeze: return "freeze";
    case TransferKind::unfreeze: return "unfreeze";
    case TransferKind::pledge: return "pledge";
    case TransferKind::pledge_release: return "pledge_release";
    case TransferKind::pledge_enforcement: return "pledge_enforcement";
    case TransferKind::ccer_issuance: return "ccer_issuance";
    case TransferKind::repo_first_leg: return "repo_first_leg";
    case TransferKind::repo_second_leg: return "repo_second_leg";
  }
  return "unknown";
}

}  // namespace carbon::registry
