#include <Poco/Base64Encoder.h>
#include <Poco/DigestEngine.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA1Engine.h>
#include <Poco/SHA2Engine.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>

#include <memory>
#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>
#include <sstream>

namespace siphon::auth {
namespace {

// Key material is handled with OpenSSL directly rather than Poco::Crypto:
// Poco 1.11's EVPPKey passes no password callback when the passphrase is
// empty, so an encrypted key makes OpenSSL prompt on the terminal.

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct OpensslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// OpenSSL keeps errors in a per-thread queue; leaving them there would make a
// later, unrelated TLS call on this thread report our failure.
void clear_openssl_errors() { ERR_clear_error(); }

std::string base64_with(std::string_view data, int options) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, options);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(data.data(), static_cast<std::streamsize>(data.size()));
  encoder.close();
  return out.str();
}

std::string digest_string(const Poco::DigestEngine::Digest& d) {
  return std::string(d.begin(), d.end());
}

std::string poco_sha2(std::string_view data, Poco::SHA2Engine::ALGORITHM algorithm) {
  Poco::SHA2Engine engine(algorithm);
  engine.update(data.data(), static_cast<unsigned>(data.size()));
  return digest_string(engine.digest());
}

// Poco 1.11's HMACEngine<SHA2Engine> does not compile, so SHA-2 HMACs use OpenSSL.
std::string openssl_hmac(const EVP_MD* md, std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  const unsigned char* msg_ptr =
      message.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(message.data());
  if (HMAC(md, key_ptr, static_cast<int>(key.size()), msg_ptr, message.size(), out, &out_len) ==
      nullptr) {
    clear_openssl_errors();
    throw Error("HMAC computation failed");
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

int base64_value(unsigned char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

// Decodes base64 (or base64url), padding optional, ASCII whitespace skipped.
// Returns false instead of throwing so callers choose the error; the message
// never quotes the text, which may be a secret.
bool decode_base64(std::string_view text, bool url, std::string& out) {
  out.clear();
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  size_t symbols = 0;
  size_t padding = 0;
  for (unsigned char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return false;  // data after padding
    int v = base64_value(c, url);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  size_t rest = symbols % 4;
  if (rest == 1) return false;
  if (padding > 0 && (rest == 0 || rest + padding != 4)) return false;
  // Leftover bits of the last symbol must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return false;
  return true;
}

struct PassphraseState {
  const std::string* passphrase = nullptr;
  bool asked = false;
};

// Never prompts: an empty passphrase means "none", which fails decryption.
int passphrase_callback(char* buf, int size, int /*rwflag*/, void* user) {
  auto* state = static_cast<PassphraseState*>(user);
  state->asked = true;
  const std::string& pass = *state->passphrase;
  if (pass.empty() || static_cast<int>(pass.size()) > size) return -1;
  pass.copy(buf, pass.size());
  return static_cast<int>(pass.size());
}

PkeyPtr load_private_key(const std::string& pem, const std::string& passphrase) {
  if (pem.find("-----BEGIN") == std::string::npos) {
    throw Error("private key is not PEM (expected a -----BEGIN ... PRIVATE KEY----- block)");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw Error("out of memory reading private key");
  PassphraseState state;
  state.passphrase = &passphrase;
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &passphrase_callback, &state));
  clear_openssl_errors();
  if (!key) {
    if (state.asked && passphrase.empty()) {
      throw Error("private key is encrypted and no passphrase was given");
    }
    if (state.asked) throw Error("private key could not be decrypted: wrong passphrase");
    throw Error("private key could not be read (expected PKCS#1 or PKCS#8 PEM)");
  }
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    throw Error("private key is not an RSA key (RS256 needs RSA)");
  }
  return key;
}

PkeyPtr load_public_key(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw Error("out of memory reading public key");
  char* name_raw = nullptr;
  char* header_raw = nullptr;
  unsigned char* data_raw = nullptr;
  long len = 0;
  int ok = PEM_read_bio(bio.get(), &name_raw, &header_raw, &data_raw, &len);
  std::unique_ptr<char, OpensslFree> name(name_raw);
  std::unique_ptr<char, OpensslFree> header(header_raw);
  std::unique_ptr<unsigned char, OpensslFree> data(data_raw);
  if (ok != 1) {
    clear_openssl_errors();
    throw Error("public key is not PEM");
  }
  const std::string kind = name.get();
  const unsigned char* p = data.get();
  PkeyPtr key;
  if (kind == "PUBLIC KEY") {
    key.reset(d2i_PUBKEY(nullptr, &p, len));
  } else if (kind == "RSA PUBLIC KEY") {
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
  } else if (kind == "CERTIFICATE") {
    std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, len));
    if (cert) key.reset(X509_get_pubkey(cert.get()));
  } else {
    throw Error("public key PEM has an unsupported type: " + kind);
  }
  clear_openssl_errors();
  if (!key) throw Error("public key could not be read (" + kind + ")");
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) throw Error("public key is not an RSA key");
  return key;
}

bool sign_sha256(EVP_PKEY* key, std::string_view input, std::string& signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  size_t sig_len = 0;
  bool ok = ctx && EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx.get(), nullptr, &sig_len, data, input.size()) == 1;
  if (ok) {
    signature.assign(sig_len, '\0');
    ok = EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &sig_len,
                        data, input.size()) == 1;
    signature.resize(sig_len);
  }
  clear_openssl_errors();
  return ok;
}

bool verify_sha256(EVP_PKEY* key, std::string_view input, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  clear_openssl_errors();
  return ok;
}

// A damaged key can still parse, and then signs tokens every vendor refuses.
// Checking a signature with the key's own public half catches that in well
// under a millisecond (EVP_PKEY_check's prime tests take ~80 ms).
void check_signature(EVP_PKEY* key, std::string_view input, std::string_view signature) {
  if (!verify_sha256(key, input, signature)) {
    throw Error("private key is damaged (its signature does not verify)");
  }
}

}  // namespace

std::string base64_encode(std::string_view data) { return base64_with(data, 0); }

std::string base64url_encode(std::string_view data) {
  return base64_with(data, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
}

std::string base64_decode(std::string_view text) {
  std::string out;
  if (!decode_base64(text, false, out)) throw Error("invalid base64 text");
  return out;
}

std::string sha256(std::string_view data) { return poco_sha2(data, Poco::SHA2Engine::SHA_256); }

std::string sha512(std::string_view data) { return poco_sha2(data, Poco::SHA2Engine::SHA_512); }

std::string hmac_sha1(std::string_view key, std::string_view message) {
  Poco::HMACEngine<Poco::SHA1Engine> engine{std::string(key)};
  engine.update(message.data(), static_cast<unsigned>(message.size()));
  return digest_string(engine.digest());
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  return openssl_hmac(EVP_sha256(), key, message);
}

std::string hmac_sha512(std::string_view key, std::string_view message) {
  return openssl_hmac(EVP_sha512(), key, message);
}

std::string hex(std::string_view data) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out += kHex[c >> 4];
    out += kHex[c & 0x0F];
  }
  return out;
}

std::string sha512_hex(std::string_view data) { return hex(sha512(data)); }

std::string hmac_sha1_hex(std::string_view key, std::string_view message) {
  return hex(hmac_sha1(key, message));
}

std::string hmac_sha512_hex(std::string_view key, std::string_view message) {
  return hex(hmac_sha512(key, message));
}

std::string dedupe_hash(std::string_view data, size_t hex_digits) {
  return hex(sha256(data)).substr(0, hex_digits);
}

std::string random_token(size_t length) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  constexpr unsigned kAlphabetSize = sizeof(kAlphabet) - 1;  // 62
  // Bytes >= 248 (4 * 62) are dropped so that every character is equally likely.
  constexpr unsigned kLimit = 256 - 256 % kAlphabetSize;
  std::string out;
  out.reserve(length);
  unsigned char buf[64];
  while (out.size() < length) {
    if (RAND_bytes(buf, sizeof(buf)) != 1) {
      clear_openssl_errors();
      throw Error("random number generator failed");
    }
    for (unsigned char b : buf) {
      if (out.size() == length) break;
      if (b < kLimit) out += kAlphabet[b % kAlphabetSize];
    }
  }
  return out;
}

std::string rs256_jwt(std::string_view header_json, std::string_view claims_json,
                      const std::string& private_key_pem, const std::string& passphrase) {
  PkeyPtr key = load_private_key(private_key_pem, passphrase);
  std::string signing_input = base64url_encode(header_json) + "." + base64url_encode(claims_json);
  std::string signature;
  if (!sign_sha256(key.get(), signing_input, signature)) throw Error("RS256 signing failed");
  check_signature(key.get(), signing_input, signature);
  return signing_input + "." + base64url_encode(signature);
}

bool rs256_verify(std::string_view jwt, const std::string& public_key_pem) {
  PkeyPtr key = load_public_key(public_key_pem);

  size_t first = jwt.find('.');
  if (first == std::string_view::npos) return false;
  size_t second = jwt.find('.', first + 1);
  if (second == std::string_view::npos || jwt.find('.', second + 1) != std::string_view::npos) {
    return false;
  }
  std::string header_json;
  std::string claims_json;
  std::string signature;
  if (!decode_base64(jwt.substr(0, first), true, header_json) ||
      !decode_base64(jwt.substr(first + 1, second - first - 1), true, claims_json) ||
      !decode_base64(jwt.substr(second + 1), true, signature)) {
    return false;
  }
  rapidjson::Document header;
  header.Parse(header_json.data(), header_json.size());
  if (header.HasParseError() || !header.IsObject()) return false;
  auto alg = header.FindMember("alg");
  if (alg == header.MemberEnd() || !alg->value.IsString() ||
      std::string_view(alg->value.GetString(), alg->value.GetStringLength()) != "RS256") {
    return false;
  }

  return verify_sha256(key.get(), jwt.substr(0, second), signature);
}

void check_private_key(const std::string& private_key_pem, const std::string& passphrase) {
  PkeyPtr key = load_private_key(private_key_pem, passphrase);
  const std::string_view probe = "siphon key check";
  std::string signature;
  if (!sign_sha256(key.get(), probe, signature)) throw Error("private key cannot sign");
  check_signature(key.get(), probe, signature);
}

}  // namespace siphon::auth
