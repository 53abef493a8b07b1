// Known-answer tests of siphon::auth against published vectors (RFC 4648,
// RFC 2202, RFC 4231, FIPS 180), the vendor worked examples in
// the vendors' documentation, and an RS256 round trip cross-checked with Poco::JWT.
#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/SharedPtr.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <set>
#include <siphon/auth_helpers.hpp>
#include <siphon/sdk.hpp>
#include <sstream>
#include <string>

namespace siphon::auth {
namespace {

// ---- base64 (RFC 4648 section 10) ----

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesRfc4648VectorsWithAndWithoutPadding) {
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode("Zg"), "f");
  EXPECT_EQ(base64_decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(base64_decode("Zm9v\nYmFy\n"), "foobar");
}

TEST(Base64, LongInputHasNoLineBreaks) {
  std::string data(300, '\xfb');
  std::string encoded = base64_encode(data);
  EXPECT_EQ(encoded.find('\n'), std::string::npos);
  EXPECT_EQ(encoded.size(), 400u);
  EXPECT_EQ(base64_decode(encoded), data);
}

TEST(Base64, RejectsInvalidText) {
  EXPECT_THROW(base64_decode("Zm9v!"), Error);
  EXPECT_THROW(base64_decode("Z"), Error);         // one symbol cannot hold a byte
  EXPECT_THROW(base64_decode("Zg=a"), Error);      // data after padding
  EXPECT_THROW(base64_decode("Zm9v===="), Error);  // padding where none belongs
  EXPECT_THROW(base64_decode("-_8="), Error);      // base64url alphabet
}

TEST(Base64, ErrorDoesNotQuoteTheText) {
  try {
    base64_decode("s3cr3t-value!");
    FAIL() << "expected siphon::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos) << e.what();
  }
}

TEST(Base64Url, UsesUrlAlphabetWithoutPadding) {
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(base64_encode("\xfb\xff\xbf"), "+/+/");
  // The JWT header of RFC 7515 appendix A.2 (RS256).
  EXPECT_EQ(base64url_encode("{\"alg\":\"RS256\"}"), "eyJhbGciOiJSUzI1NiJ9");
}

// ---- digests (FIPS 180-4 examples) ----

TEST(Digest, Sha512Abc) {
  EXPECT_EQ(sha512_hex("abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(sha512("abc").size(), 64u);
}

TEST(Digest, Sha512Empty) {
  EXPECT_EQ(sha512_hex(""),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
            "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
}

TEST(Digest, Sha256Abc) {
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hex, LowerCase) {
  EXPECT_EQ(hex(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(hex(""), "");
}

// ---- HMAC-SHA1 (RFC 2202 section 3) ----

TEST(HmacSha1, Rfc2202Vectors) {
  EXPECT_EQ(hmac_sha1_hex(std::string(20, '\x0b'), "Hi There"),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hmac_sha1_hex("Jefe", "what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hmac_sha1_hex(std::string(20, '\xaa'), std::string(50, '\xdd')),
            "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
  EXPECT_EQ(hmac_sha1_hex(std::string(80, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
  EXPECT_EQ(hmac_sha1_hex(std::string(80, '\xaa'),
                          "Test Using Larger Than Block-Size Key and Larger Than One "
                          "Block-Size Data"),
            "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
  EXPECT_EQ(hmac_sha1("Jefe", "what do ya want for nothing?").size(), 20u);
}

// ---- HMAC-SHA-256/512 (RFC 4231 section 4) ----

TEST(HmacSha512, Rfc4231Vectors) {
  EXPECT_EQ(hmac_sha512_hex(std::string(20, '\x0b'), "Hi There"),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
  EXPECT_EQ(hmac_sha512_hex("Jefe", "what do ya want for nothing?"),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  EXPECT_EQ(hmac_sha512_hex(std::string(20, '\xaa'), std::string(50, '\xdd')),
            "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
            "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb");
  EXPECT_EQ(hmac_sha512_hex(std::string(131, '\xaa'),
                            "Test Using Larger Than Block-Size Key - Hash Key First"),
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
            "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
}

TEST(HmacSha256, Rfc4231Vectors) {
  EXPECT_EQ(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, EmptyKeyAndMessage) {
  EXPECT_EQ(hmac_sha1("", "").size(), 20u);
  EXPECT_EQ(hmac_sha256("", "").size(), 32u);
  EXPECT_EQ(hmac_sha512("", "").size(), 64u);
}

// ---- vendor worked examples ----

constexpr const char* kDuoCanonical =
    "Tue, 21 Aug 2012 17:29:18 -0000\n"
    "GET\n"
    "api-xxxxxxxx.duosecurity.com\n"
    "/admin/v2/logs/authentication\n"
    "limit=1000&maxtime=1714584000000&mintime=1714580400000";
constexpr const char* kDuoIkey = "DIWJ8X6AEYOR5OMC6TQ1";
constexpr const char* kDuoSkey = "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT";

TEST(VendorVectors, DuoSignatureV2) {
  std::string sig = hmac_sha1_hex(kDuoSkey, kDuoCanonical);
  EXPECT_EQ(sig, "dda7b6347b982a4f327a062ffd8475729700cc23");
  EXPECT_EQ("Basic " + base64_encode(std::string(kDuoIkey) + ":" + sig),
            "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6ZGRhN2I2MzQ3Yjk4MmE0ZjMyN2EwNjJmZmQ4NDc1"
            "NzI5NzAwY2MyMw==");
}

TEST(VendorVectors, DuoSignatureV5) {
  // duo.md gives the v5 signature abbreviated: 14338d5b...438c8edb.
  std::string body_hash = sha512_hex("");
  std::string sig = hmac_sha512_hex(
      kDuoSkey, std::string(kDuoCanonical) + "\n" + body_hash + "\n" + sha512_hex(""));
  ASSERT_EQ(sig.size(), 128u);
  EXPECT_EQ(sig.substr(0, 8), "14338d5b");
  EXPECT_EQ(sig.substr(120), "438c8edb");
}

TEST(VendorVectors, AliyunSignatureV2) {
  const std::string string_to_sign =
      "GET&%2F&AccessKeyId%3Dtestid%26Action%3DLookupEvents%26EndTime%3D2024-05-01T17%253A00%"
      "253A00Z%26Format%3DJSON%26MaxResults%3D50%26SignatureMethod%3DHMAC-SHA1%"
      "26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%"
      "26StartTime%3D2024-05-01T16%253A00%253A00Z%26Timestamp%3D2024-05-01T17%253A00%253A05Z%"
      "26Version%3D2020-07-06";
  EXPECT_EQ(base64_encode(hmac_sha1("testsecret&", string_to_sign)),
            "A5Ga5zNXd/A/Gvg4y6bMO9ON/oY=");
}

// ---- random tokens ----

TEST(RandomToken, LengthAlphabetAndVariety) {
  EXPECT_EQ(random_token(0), "");
  std::string token = random_token(200);
  ASSERT_EQ(token.size(), 200u);
  for (char c : token) {
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << c;
  }
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_token(16));
  EXPECT_EQ(seen.size(), 100u);
}

// ---- RS256 ----

constexpr const char* kPassphrase = "correct horse battery staple";
constexpr const char* kHeader = R"({"alg":"RS256","typ":"JWT","kid":"k1"})";
constexpr const char* kClaims =
    R"({"iss":"client-id","sub":"12345","box_sub_type":"enterprise","aud":"https://api.box.com/oauth2/token","jti":"abcdefghijklmnop","exp":1714582850})";

// One 2048-bit key pair for the whole suite (generation takes ~100 ms).
class Rs256Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = std::make_unique<Poco::Crypto::RSAKey>(Poco::Crypto::RSAKey::KL_2048,
                                                  Poco::Crypto::RSAKey::EXP_LARGE);
    std::ostringstream pub;
    std::ostringstream pkcs1;
    key_->save(&pub, &pkcs1);
    public_pem_ = pub.str();
    pkcs1_pem_ = pkcs1.str();
    std::ostringstream pkcs1_encrypted;
    key_->save(nullptr, &pkcs1_encrypted, kPassphrase);
    pkcs1_encrypted_pem_ = pkcs1_encrypted.str();

    // Poco writes only PKCS#1; PKCS#8 (what Box key files hold) comes from OpenSSL.
    Poco::Crypto::EVPPKey evp(key_.get());
    pkcs8_pem_ = write_pkcs8(evp, nullptr, "");
    pkcs8_encrypted_pem_ = write_pkcs8(evp, EVP_aes_256_cbc(), kPassphrase);
  }
  static void TearDownTestSuite() { key_.reset(); }

  static std::string write_pkcs8(Poco::Crypto::EVPPKey& key, const EVP_CIPHER* cipher,
                                 const std::string& passphrase) {
    BIO* bio = BIO_new(BIO_s_mem());
    EVP_PKEY* pkey = key;
    int ok = PEM_write_bio_PKCS8PrivateKey(
        bio, pkey, cipher, cipher ? const_cast<char*>(passphrase.data()) : nullptr,
        cipher ? static_cast<int>(passphrase.size()) : 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string pem = ok == 1 ? std::string(data, static_cast<size_t>(len)) : std::string();
    BIO_free(bio);
    return pem;
  }

  // Verifies with Poco::JWT; throws Poco::JWT::SignatureVerificationException.
  static Poco::JWT::Token poco_verify(const std::string& jwt) {
    std::istringstream pub(public_pem_);
    Poco::SharedPtr<Poco::Crypto::RSAKey> key(new Poco::Crypto::RSAKey(&pub));
    Poco::JWT::Signer signer(key);
    signer.addAlgorithm(Poco::JWT::Signer::ALGO_RS256);
    return signer.verify(jwt);
  }

  static std::unique_ptr<Poco::Crypto::RSAKey> key_;
  static std::string public_pem_;
  static std::string pkcs1_pem_;
  static std::string pkcs1_encrypted_pem_;
  static std::string pkcs8_pem_;
  static std::string pkcs8_encrypted_pem_;
};

std::unique_ptr<Poco::Crypto::RSAKey> Rs256Test::key_;
std::string Rs256Test::public_pem_;
std::string Rs256Test::pkcs1_pem_;
std::string Rs256Test::pkcs1_encrypted_pem_;
std::string Rs256Test::pkcs8_pem_;
std::string Rs256Test::pkcs8_encrypted_pem_;

TEST_F(Rs256Test, KeyFormatsAreWhatTheTestsClaim) {
  EXPECT_NE(pkcs1_pem_.find("-----BEGIN RSA PRIVATE KEY-----"), std::string::npos);
  EXPECT_NE(pkcs1_encrypted_pem_.find("ENCRYPTED"), std::string::npos);
  EXPECT_NE(pkcs8_pem_.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  EXPECT_NE(pkcs8_encrypted_pem_.find("-----BEGIN ENCRYPTED PRIVATE KEY-----"), std::string::npos);
}

TEST_F(Rs256Test, SignsWithEncryptedPkcs8AndVerifies) {
  std::string jwt = rs256_jwt(kHeader, kClaims, pkcs8_encrypted_pem_, kPassphrase);
  std::string expected_prefix = base64url_encode(kHeader) + "." + base64url_encode(kClaims) + ".";
  ASSERT_EQ(jwt.rfind(expected_prefix, 0), 0u);
  // 256-byte signature: 342 base64url characters, no padding.
  EXPECT_EQ(jwt.size() - expected_prefix.size(), 342u);
  EXPECT_EQ(jwt.find('='), std::string::npos);
  EXPECT_TRUE(rs256_verify(jwt, public_pem_));
}

TEST_F(Rs256Test, PocoJwtAcceptsOurToken) {
  std::string jwt = rs256_jwt(kHeader, kClaims, pkcs8_encrypted_pem_, kPassphrase);
  Poco::JWT::Token token = poco_verify(jwt);
  EXPECT_EQ(token.getAlgorithm(), "RS256");
  EXPECT_EQ(token.getIssuer(), "client-id");
  EXPECT_EQ(token.getSubject(), "12345");
  EXPECT_EQ(token.payload().getValue<std::string>("box_sub_type"), "enterprise");
}

TEST_F(Rs256Test, WeAcceptPocoJwtToken) {
  Poco::JWT::Token token;
  token.setType("JWT");
  token.setIssuer("poco");
  std::istringstream priv(pkcs1_pem_);
  Poco::SharedPtr<Poco::Crypto::RSAKey> key(new Poco::Crypto::RSAKey(nullptr, &priv));
  Poco::JWT::Signer signer(key);
  std::string jwt = signer.sign(token, Poco::JWT::Signer::ALGO_RS256);
  EXPECT_TRUE(rs256_verify(jwt, public_pem_));
}

TEST_F(Rs256Test, AllPrivateKeyFormatsSignTheSame) {
  // PKCS#1 v1.5 signatures are deterministic: every form of the key gives the same token.
  std::string expected = rs256_jwt(kHeader, kClaims, pkcs8_pem_);
  EXPECT_EQ(rs256_jwt(kHeader, kClaims, pkcs1_pem_), expected);
  EXPECT_EQ(rs256_jwt(kHeader, kClaims, pkcs1_encrypted_pem_, kPassphrase), expected);
  EXPECT_EQ(rs256_jwt(kHeader, kClaims, pkcs8_encrypted_pem_, kPassphrase), expected);
  EXPECT_NO_THROW(check_private_key(pkcs8_encrypted_pem_, kPassphrase));
  EXPECT_NO_THROW(check_private_key(pkcs1_pem_));
}

TEST_F(Rs256Test, WrongPassphraseThrowsWithoutQuotingIt) {
  const std::string wrong = "Tr0ub4dor&3-not-it";
  for (const std::string* pem : {&pkcs8_encrypted_pem_, &pkcs1_encrypted_pem_}) {
    try {
      rs256_jwt(kHeader, kClaims, *pem, wrong);
      FAIL() << "expected siphon::Error";
    } catch (const Error& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("passphrase"), std::string::npos) << what;
      EXPECT_EQ(what.find(wrong), std::string::npos) << what;
      EXPECT_EQ(what.find(kPassphrase), std::string::npos) << what;
      EXPECT_EQ(what.find("BEGIN"), std::string::npos) << what;
    }
  }
  EXPECT_THROW(check_private_key(pkcs8_encrypted_pem_, wrong), Error);
}

TEST_F(Rs256Test, MissingPassphraseThrowsInsteadOfPrompting) {
  try {
    check_private_key(pkcs8_encrypted_pem_);
    FAIL() << "expected siphon::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no passphrase"), std::string::npos) << e.what();
  }
}

TEST_F(Rs256Test, GarbageKeyThrowsWithoutQuotingIt) {
  // Change bytes of the modulus: the key still parses but cannot make a valid signature.
  std::string damaged = pkcs8_pem_;
  size_t body = damaged.find('\n') + 1;
  damaged.replace(body + 100, 8,
                  damaged.compare(body + 100, 8, "AAAAAAAA") == 0 ? "BBBBBBBB" : "AAAAAAAA");
  EXPECT_THROW(rs256_jwt(kHeader, kClaims, damaged), Error);
  EXPECT_THROW(check_private_key(damaged), Error);
  std::string truncated =
      pkcs8_pem_.substr(0, pkcs8_pem_.size() / 2) + "\n-----END PRIVATE KEY-----\n";
  EXPECT_THROW(check_private_key(truncated), Error);
  try {
    check_private_key("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ");
    FAIL() << "expected siphon::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("MIIEvQ"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_private_key(public_pem_), Error);
}

TEST_F(Rs256Test, TamperedTokenFailsVerify) {
  std::string jwt = rs256_jwt(kHeader, kClaims, pkcs8_pem_);
  size_t first = jwt.find('.');
  size_t second = jwt.find('.', first + 1);

  std::string other_claims = jwt.substr(0, first + 1) +
                             base64url_encode(R"({"iss":"client-id","sub":"99999"})") +
                             jwt.substr(second);
  EXPECT_FALSE(rs256_verify(other_claims, public_pem_));

  std::string flipped = jwt;
  flipped[second + 10] = flipped[second + 10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(rs256_verify(flipped, public_pem_));

  EXPECT_FALSE(rs256_verify(jwt.substr(0, second), public_pem_));
  EXPECT_FALSE(rs256_verify(jwt + ".x", public_pem_));
  EXPECT_FALSE(rs256_verify("not a jwt", public_pem_));
  EXPECT_THROW(poco_verify(other_claims), Poco::Exception);
}

TEST_F(Rs256Test, VerifyRequiresRs256Header) {
  std::string jwt = rs256_jwt(R"({"alg":"HS256","typ":"JWT"})", kClaims, pkcs8_pem_);
  EXPECT_FALSE(rs256_verify(jwt, public_pem_));
}

TEST_F(Rs256Test, VerifyWithAnotherKeyFails) {
  Poco::Crypto::RSAKey other(Poco::Crypto::RSAKey::KL_2048, Poco::Crypto::RSAKey::EXP_LARGE);
  std::ostringstream other_pub;
  other.save(&other_pub);
  std::string jwt = rs256_jwt(kHeader, kClaims, pkcs8_pem_);
  EXPECT_FALSE(rs256_verify(jwt, other_pub.str()));
}

TEST_F(Rs256Test, VerifyAcceptsSpkiPublicKeyAndRejectsGarbage) {
  // Poco::Crypto::EVPPKey writes SubjectPublicKeyInfo ("PUBLIC KEY").
  Poco::Crypto::EVPPKey evp(key_.get());
  std::ostringstream spki;
  evp.save(&spki);
  ASSERT_NE(spki.str().find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
  std::string jwt = rs256_jwt(kHeader, kClaims, pkcs8_pem_);
  EXPECT_TRUE(rs256_verify(jwt, spki.str()));
  EXPECT_THROW(rs256_verify(jwt, "not a key"), Error);
}

}  // namespace
}  // namespace siphon::auth
