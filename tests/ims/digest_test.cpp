// HTTP Digest: RFC 2617 §3.5's example, the parser's tolerance and its
// errors, base64, and the whole AKAv1-MD5 exchange of RFC 3310 between a
// network and a UE (challenge, answer, wrong RES, resync).
#include "ims/digest.hpp"

#include <gtest/gtest.h>

#include <string>

#include "ims_test_support.hpp"

namespace imsflow::ims {
namespace {

using test::octets;

std::span<const std::uint8_t> text_octets(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// RFC 2617 §3.5, as a SIP stack would hand over the values: folded lines kept.
constexpr std::string_view kRfc2617Challenge =
    "Digest\r\n"
    "                 realm=\"testrealm@host.com\",\r\n"
    "                 qop=\"auth,auth-int\",\r\n"
    "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
    "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
constexpr std::string_view kRfc2617Authorization =
    "Digest username=\"Mufasa\",\r\n"
    "                 realm=\"testrealm@host.com\",\r\n"
    "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
    "                 uri=\"/dir/index.html\",\r\n"
    "                 qop=auth,\r\n"
    "                 nc=00000001,\r\n"
    "                 cnonce=\"0a4f113b\",\r\n"
    "                 response=\"6629fae49393a05397450978507c4ef1\",\r\n"
    "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

TEST(DigestRfc2617, ParsesTheChallenge) {
  auto h = parse_digest(kRfc2617Challenge);
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_EQ(h->scheme, "Digest");
  EXPECT_EQ(h->realm.text, "testrealm@host.com");
  EXPECT_TRUE(h->realm.quoted);
  EXPECT_EQ(h->nonce.text, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  EXPECT_EQ(h->opaque.text, "5ccc069c403ebaf9f0171e9517f40e41");
  EXPECT_TRUE(h->offers_qop("auth"));
  EXPECT_TRUE(h->offers_qop("AUTH-INT"));
  EXPECT_FALSE(h->offers_qop("auth-conf"));
  EXPECT_FALSE(h->algorithm);
  EXPECT_EQ(h->algorithm_kind(), DigestAlgorithm::Md5);
  EXPECT_FALSE(h->is_stale());
  EXPECT_EQ(h->other_count, 0);
}

TEST(DigestRfc2617, ComputesTheExampleResponse) {
  auto ha1 = digest_ha1("Mufasa", "testrealm@host.com", std::string_view("Circle Of Life"));
  ASSERT_TRUE(ha1);
  EXPECT_EQ(ha1->view(), "939e7578ed9e3c518a452acee763bce9");
  auto response = digest_response(*ha1, {"GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "auth",
                                         "00000001", "0a4f113b"});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->view(), "6629fae49393a05397450978507c4ef1");
}

TEST(DigestRfc2617, ComputesTheFormWithoutQop) {
  auto ha1 = digest_ha1("Mufasa", "testrealm@host.com", std::string_view("Circle Of Life"));
  ASSERT_TRUE(ha1);
  // MD5(HA1:nonce:HA2), RFC 2617 §3.2.2.1 (the RFC 2069 form).
  auto response = digest_response(*ha1, {"GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", {}, {}, {}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->view(), "670fd8c2df070c60b045671b8b24ff02");
}

TEST(DigestRfc2617, VerifiesTheExampleAuthorization) {
  auto h = parse_digest(kRfc2617Authorization);
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_EQ(h->username.text, "Mufasa");
  EXPECT_EQ(h->uri.text, "/dir/index.html");
  EXPECT_EQ(h->qop.text, "auth");
  EXPECT_FALSE(h->qop.quoted);
  EXPECT_EQ(h->nonce_count(), std::optional<std::uint32_t>(1));
  EXPECT_EQ(h->cnonce.text, "0a4f113b");

  auto ok = verify_response(*h, "GET", text_octets("Circle Of Life"));
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_TRUE(*ok);
  auto wrong_password = verify_response(*h, "GET", text_octets("Circle of Life"));
  ASSERT_TRUE(wrong_password);
  EXPECT_FALSE(*wrong_password);
  auto wrong_method = verify_response(*h, "POST", text_octets("Circle Of Life"));
  ASSERT_TRUE(wrong_method);
  EXPECT_FALSE(*wrong_method);
}

TEST(DigestRfc2617, ResponseHexCaseDoesNotMatter) {
  const std::string upper = "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, "
                            "nc=00000001, cnonce=\"0a4f113b\", response=\"6629FAE49393A05397450978507C4EF1\"";
  auto h = parse_digest(upper);
  ASSERT_TRUE(h);
  auto ok = verify_response(*h, "GET", text_octets("Circle Of Life"));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(*ok);
}

// ---- parser tolerance ----

TEST(DigestParser, AnyOrderOddSpacingAndUnknownParamsKept) {
  auto h = parse_digest(
      "  digest\tnonce = \"n1\" ,realm=\"r\",, integrity-protected=\"yes\",  ALGORITHM=akav1-md5 ,x-flag=1,");
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_EQ(h->scheme, "digest");
  EXPECT_EQ(h->nonce.text, "n1");
  EXPECT_EQ(h->realm.text, "r");
  EXPECT_EQ(h->algorithm_kind(), DigestAlgorithm::AkaV1Md5);
  ASSERT_EQ(h->other_params().size(), 2u);
  EXPECT_EQ(h->other_params()[0].name, "integrity-protected");
  EXPECT_EQ(h->other_params()[0].value.text, "yes");
  EXPECT_EQ(h->other_params()[1].name, "x-flag");
  EXPECT_EQ(h->other_params()[1].value.text, "1");
  ASSERT_NE(h->find("Integrity-Protected"), nullptr);
  EXPECT_EQ(h->find("Integrity-Protected")->text, "yes");
  ASSERT_NE(h->find("REALM"), nullptr);
  EXPECT_EQ(h->find("REALM")->text, "r");
  EXPECT_EQ(h->find("opaque"), nullptr);
}

TEST(DigestParser, QuotedStringsKeepEscapesAndUnescapeOnRequest) {
  auto h = parse_digest(R"(Digest username="a\"b\\c", realm="x,y=z", uri=sip:ims.example.com;lr)");
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_EQ(h->username.text, R"(a\"b\\c)");
  EXPECT_TRUE(h->username.escaped);
  EXPECT_EQ(h->username.unescaped(), R"(a"b\c)");
  EXPECT_EQ(h->realm.text, "x,y=z");
  EXPECT_FALSE(h->realm.escaped);
  EXPECT_EQ(h->uri.text, "sip:ims.example.com;lr");  // unquoted, as some UEs send it
  EXPECT_FALSE(h->uri.quoted);
}

TEST(DigestParser, EmptyResponseOfAnInitialRegisterIsPresent) {
  // TS 24.229 §5.1.1.2.1: the first REGISTER carries nonce="" and response="".
  auto h = parse_digest(R"(Digest username="u@ims", realm="ims", uri="sip:ims", nonce="", response="")");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->response);
  EXPECT_TRUE(h->response.text.empty());
  EXPECT_TRUE(h->nonce);
  auto v = verify_response(*h, "REGISTER", {});
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
}

TEST(DigestParser, StaleAndIkCk) {
  auto h = parse_digest(R"(Digest realm="r", nonce="n", stale=TRUE, ik="00ff", ck="ff00")");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->is_stale());
  EXPECT_EQ(h->ik.text, "00ff");
  EXPECT_EQ(h->ck.text, "ff00");
}

struct BadHeader {
  std::string_view text;
  DigestErrorCode code;
  std::uint32_t offset;
  std::string_view param;
};

class DigestParserErrors : public ::testing::TestWithParam<BadHeader> {};

TEST_P(DigestParserErrors, SayWhatAndWhere) {
  const BadHeader& b = GetParam();
  auto h = parse_digest(b.text);
  ASSERT_FALSE(h) << b.text;
  EXPECT_EQ(h.error().code, b.code) << b.text << ": " << h.error().describe();
  EXPECT_EQ(h.error().offset, b.offset) << b.text << ": " << h.error().describe();
  EXPECT_EQ(h.error().param, b.param) << b.text;
  EXPECT_LE(h.error().offset, b.text.size());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DigestParserErrors,
    ::testing::Values(BadHeader{"", DigestErrorCode::Empty, 0, ""},
                      BadHeader{"  \r\n ", DigestErrorCode::Empty, 5, ""},
                      BadHeader{R"(Basic realm="x")", DigestErrorCode::Scheme, 0, ""},
                      BadHeader{"Digest", DigestErrorCode::Scheme, 6, ""},
                      BadHeader{"Digest  ", DigestErrorCode::Scheme, 8, ""},
                      BadHeader{"Digest , ,", DigestErrorCode::ParamName, 10, ""},
                      BadHeader{"Digest =x", DigestErrorCode::ParamName, 7, ""},
                      BadHeader{"Digest realm", DigestErrorCode::ParamEquals, 12, "realm"},
                      BadHeader{"Digest realm \"x\"", DigestErrorCode::ParamEquals, 13, "realm"},
                      BadHeader{"Digest realm=", DigestErrorCode::ParamValue, 13, "realm"},
                      BadHeader{"Digest realm=,nonce=\"n\"", DigestErrorCode::ParamValue, 13, "realm"},
                      BadHeader{R"(Digest realm="abc)", DigestErrorCode::QuotedString, 13, "realm"},
                      BadHeader{R"(Digest realm="abc\)", DigestErrorCode::QuotedString, 17, "realm"},
                      BadHeader{"Digest realm=\"a\x01z\"", DigestErrorCode::QuotedString, 15, "realm"},
                      BadHeader{"Digest realm=\"a\\\r\n b\"", DigestErrorCode::QuotedString, 15, "realm"},
                      BadHeader{R"(Digest realm="a" nonce="b")", DigestErrorCode::Separator, 17, "realm"},
                      BadHeader{R"(Digest realm=a"b")", DigestErrorCode::Separator, 14, "realm"},
                      BadHeader{R"(Digest realm="a", REALM="b")", DigestErrorCode::DuplicateParam, 18, "REALM"},
                      BadHeader{R"(Digest nonce="n", nc=0001)", DigestErrorCode::BadValue, 21, "nc"},
                      BadHeader{R"(Digest nonce="n", nc=0000000g)", DigestErrorCode::BadValue, 21, "nc"},
                      BadHeader{R"(Digest stale=maybe)", DigestErrorCode::BadValue, 13, "stale"}));

TEST(DigestParser, TooManyUnknownParams) {
  std::string text = "Digest realm=\"r\"";
  for (int i = 0; i < 16; ++i) text += ", p" + std::to_string(i) + "=v";
  ASSERT_TRUE(parse_digest(text));
  const std::size_t extra_at = text.size() + 2;
  text += ", p16=v";
  auto h = parse_digest(text);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, DigestErrorCode::TooManyParams);
  EXPECT_EQ(h.error().offset, extra_at);
  EXPECT_EQ(h.error().param, "p16");
}

TEST(DigestParser, DescribeNamesParamAndByte) {
  auto h = parse_digest("Digest realm");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().describe(), "Digest realm: expected '=' after the parameter name at byte 12");
}

// ---- verify_response refusals ----

TEST(DigestVerify, NamesTheMissingOrUnsupportedParam) {
  auto check = [](std::string_view text, DigestErrorCode code, std::string_view param) {
    auto h = parse_digest(text);
    ASSERT_TRUE(h) << text;
    auto v = verify_response(*h, "REGISTER", text_octets("pw"));
    ASSERT_FALSE(v) << text;
    EXPECT_EQ(v.error().code, code) << text;
    EXPECT_EQ(v.error().param, param) << text;
  };
  check(R"(Digest username="u", realm="r", nonce="n", response="x")", DigestErrorCode::MissingParam, "uri");
  check(R"(Digest realm="r", nonce="n", uri="sip:r", response="x")", DigestErrorCode::MissingParam, "username");
  check(R"(Digest username="u", realm="r", nonce="n", uri="sip:r", response="x", qop=auth, nc=00000001)",
        DigestErrorCode::MissingParam, "cnonce");
  check(R"(Digest username="u", realm="r", nonce="n", uri="sip:r", response="x", qop=auth-int, nc=00000001, cnonce="c")",
        DigestErrorCode::UnsupportedQop, "qop");
  check(R"(Digest username="u", realm="r", nonce="n", uri="sip:r", response="x", algorithm=MD5-sess)",
        DigestErrorCode::UnsupportedAlgorithm, "algorithm");

  auto h = parse_digest(R"(Digest username="u", realm="r", nonce="n", response="x")");
  ASSERT_TRUE(h);
  EXPECT_EQ(verify_response(*h, "REGISTER", {}).error().describe(), "Digest: no uri parameter");
}

// ---- builders ----

TEST(DigestBuild, ChallengeAndAuthorizationValues) {
  EXPECT_EQ(build_challenge({"ims.example.com", "bm9uY2U=", DigestAlgorithm::AkaV1Md5, true, {}, false, {}, {}}),
            R"(Digest realm="ims.example.com", nonce="bm9uY2U=", algorithm=AKAv1-MD5, qop="auth")");
  EXPECT_EQ(build_challenge({"r", "n", DigestAlgorithm::Md5, false, "op", true, "0a", "0b"}),
            R"(Digest realm="r", nonce="n", algorithm=MD5, opaque="op", stale=TRUE, ik="0a", ck="0b")");

  DigestCredentials c;
  c.username = "user\"1";
  c.realm = "ims";
  c.nonce = "n";
  c.uri = "sip:ims";
  c.response = "";
  c.qop = "auth";
  c.nc = "00000001";
  c.cnonce = "c\r\n";  // a CR or LF would end the header: dropped
  c.auts = "QUJD";
  EXPECT_EQ(build_authorization(c),
            R"(Digest username="user\"1", realm="ims", nonce="n", uri="sip:ims", response="", algorithm=AKAv1-MD5, qop=auth, nc=00000001, cnonce="c", auts="QUJD")");
  EXPECT_EQ(nonce_count_text(1), "00000001");
  EXPECT_EQ(nonce_count_text(0xabcdef12), "abcdef12");
}

// ---- base64 ----

TEST(Base64, RoundTripsEveryPaddingLength) {
  const std::string_view expected[] = {"", "QQ==", "QUI=", "QUJD", "QUJDRA==", "QUJDREU="};
  const std::string_view plain = "ABCDE";
  for (std::size_t n = 0; n <= plain.size(); ++n) {
    const std::string enc = base64_encode(text_octets(plain.substr(0, n)));
    EXPECT_EQ(enc, expected[n]);
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(std::string(dec->begin(), dec->end()), plain.substr(0, n));
  }
  // Beyond one EVP chunk (12288 octets) both ways.
  std::vector<std::uint8_t> big(20000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  auto back = base64_decode(base64_encode(big));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, big);
}

TEST(Base64, RefusesWithTheOffendingByte) {
  struct Case {
    std::string_view text;
    std::uint32_t offset;
    std::string_view expected;
  };
  for (const Case& c : {Case{"QQ", 2, "a base64 length that is a multiple of 4"},
                        Case{"QUJD QUJ", 4, "a base64 character"},
                        Case{"QU!D", 2, "a base64 character"},
                        Case{"Q===", 1, "'=' only at the end"},
                        Case{"QQ=A", 2, "'=' only at the end"},
                        Case{"QR==", 1, "zero bits before the padding"},
                        Case{"QUJ=", 2, "zero bits before the padding"},
                        Case{"QUJD\r\n  ", 4, "a base64 character"}}) {
    auto r = base64_decode(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, DigestErrorCode::Base64) << c.text;
    EXPECT_EQ(r.error().offset, c.offset) << c.text;
    EXPECT_EQ(std::string_view(r.error().expected), c.expected) << c.text;
  }
}

// ---- the AKA nonce and auts ----

TEST(AkaNonce, IsBase64OfRandAndAutn) {
  const Rand rand = octets<16>("23553cbe9637a89d218ae64dae47bf35");
  const Autn autn = octets<16>("55f328b43577b9b94a9ffac354dfafb3");
  const std::string nonce = aka_nonce(rand, autn);
  EXPECT_EQ(nonce, "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");
  auto parsed = parse_aka_nonce(nonce);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->rand, rand);
  EXPECT_EQ(parsed->autn, autn);
  EXPECT_EQ(parsed->server_data_octets, 0u);

  std::vector<std::uint8_t> with_data(rand.begin(), rand.end());
  with_data.insert(with_data.end(), autn.begin(), autn.end());
  with_data.insert(with_data.end(), {1, 2, 3});
  auto longer = parse_aka_nonce(base64_encode(with_data));
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->autn, autn);
  EXPECT_EQ(longer->server_data_octets, 3u);
}

TEST(AkaNonce, ShortOrBadNonceIsRefusedPrecisely) {
  std::vector<std::uint8_t> short_nonce(31, 0x5a);
  auto s = parse_aka_nonce(base64_encode(short_nonce));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, DigestErrorCode::NonceLength);
  EXPECT_EQ(s.error().param, "nonce");

  auto b = parse_aka_nonce("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp_6w1Tfr7M=");  // '_' is base64url, not base64
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, DigestErrorCode::Base64);
  EXPECT_EQ(b.error().offset, 34u);
  EXPECT_EQ(b.error().describe(), "Digest nonce: expected a base64 character at byte 34");
}

TEST(Auts, TextRoundTripAndLength) {
  const Auts auts = octets<14>("ba853f3c123c0102030405060708");
  auto back = parse_auts(auts_text(auts));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, auts);
  auto shorter = parse_auts(base64_encode(std::span<const std::uint8_t>(auts.data(), 13)));
  ASSERT_FALSE(shorter);
  EXPECT_EQ(shorter.error().code, DigestErrorCode::AutsLength);
  auto bad = parse_auts("!!!!");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, DigestErrorCode::Base64);
  EXPECT_EQ(bad.error().param, "auts");
}

// ---- AKAv1-MD5 end to end (RFC 3310 §3, TS 33.203 §6.1) ----

// TS 35.208 test set 1 as the subscriber.
const Key kK = octets<16>("465b5ce8b199b49faa5f0a2ee238a6bc");
const Opc kOpc = octets<16>("cd63cb71954a9f4e48a5994e37a02baf");
constexpr std::string_view kImpi = "user1@ims.example.com";
constexpr std::string_view kRealm = "ims.example.com";
constexpr std::string_view kUri = "sip:ims.example.com";

/// The S-CSCF/HSS: one subscriber's SQN_HE, vectors, checks.
struct Network {
  Sqn sqn_he = 0;
  AuthVector vector;
  std::string nonce;

  std::string challenge(const Rand& rand) {
    auto v = make_vector(kK, kOpc, ++sqn_he, Amf{0x80, 0x00}, rand);
    EXPECT_TRUE(v);
    vector = *v;
    nonce = aka_nonce(vector.rand, vector.autn);
    return build_challenge({kRealm, nonce, DigestAlgorithm::AkaV1Md5, true, {}, false, {}, {}});
  }
};

/// The UE: its USIM's highest accepted SQN, and what it answers.
struct Ue {
  Sqn sqn_ms = 0;
  std::optional<AkaError> last_error;

  std::string answer(std::string_view www_authenticate) {
    auto h = parse_digest(www_authenticate);
    EXPECT_TRUE(h);
    EXPECT_EQ(h->algorithm_kind(), DigestAlgorithm::AkaV1Md5);
    EXPECT_TRUE(h->offers_qop("auth"));
    auto n = parse_aka_nonce(h->nonce.text);
    EXPECT_TRUE(n);
    auto a = authenticate(kK, kOpc, n->rand, n->autn, sqn_ms);
    DigestCredentials c{kImpi, h->realm.text, h->nonce.text, kUri, {}, DigestAlgorithm::AkaV1Md5, "auth",
                        "00000001", "0a4f113b", {}, {}};
    std::string auts;
    std::span<const std::uint8_t> password;
    if (a) {
      last_error.reset();
      sqn_ms = a->sqn;
      password = res_ = a->res;
    } else {
      last_error = a.error();
      if (a.error().code != AkaErrorCode::SyncFailure) return {};
      auts = auts_text(a.error().auts);  // RFC 3310 §3.4: password is empty
      c.auts = auts;
    }
    auto ha1 = digest_ha1(kImpi, h->realm.text, password);
    auto response = digest_response(*ha1, {"REGISTER", kUri, h->nonce.text, "auth", "00000001", "0a4f113b"});
    c.response = response->view();
    return build_authorization(c);
  }

 private:
  Res res_{};
};

TEST(AkaDigest, RegisterChallengeAnswerVerify) {
  Network net;
  Ue ue;
  const std::string www = net.challenge(octets<16>("23553cbe9637a89d218ae64dae47bf35"));
  const std::string authorization = ue.answer(www);
  ASSERT_FALSE(authorization.empty());
  EXPECT_EQ(ue.sqn_ms, net.sqn_he);

  auto h = parse_digest(authorization);
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_EQ(h->nonce.text, net.nonce);
  EXPECT_FALSE(h->auts);
  auto ok = verify_response(*h, "REGISTER", net.vector.xres);
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_TRUE(*ok);

  // A wrong RES (one bit) is refused.
  Res wrong = net.vector.xres;
  wrong[7] ^= 0x01;
  auto refused = verify_response(*h, "REGISTER", wrong);
  ASSERT_TRUE(refused);
  EXPECT_FALSE(*refused);
  // So is the right RES for another method (HA2 covers it).
  auto other_method = verify_response(*h, "INVITE", net.vector.xres);
  ASSERT_TRUE(other_method);
  EXPECT_FALSE(*other_method);
}

TEST(AkaDigest, StaleSqnResynchronises) {
  Network net;
  Ue ue;
  ue.sqn_ms = 500;  // the USIM has seen newer vectors than this network's SQN_HE
  const Rand rand = octets<16>("c00d603103dcee52c4478119494202e8");
  const std::string authorization = ue.answer(net.challenge(rand));
  ASSERT_TRUE(ue.last_error);
  EXPECT_EQ(ue.last_error->code, AkaErrorCode::SyncFailure);
  EXPECT_EQ(ue.sqn_ms, Sqn{500});  // a refused vector changes nothing

  auto h = parse_digest(authorization);
  ASSERT_TRUE(h) << h.error().describe();
  ASSERT_TRUE(h->auts);
  // The resync request's response is computed with an empty password.
  auto ok = verify_response(*h, "REGISTER", {});
  ASSERT_TRUE(ok);
  EXPECT_TRUE(*ok);
  auto auts = parse_auts(h->auts.text);
  ASSERT_TRUE(auts);
  auto n = parse_aka_nonce(h->nonce.text);
  ASSERT_TRUE(n);
  auto sqn_ms = resync(kK, kOpc, n->rand, *auts);
  ASSERT_TRUE(sqn_ms) << sqn_ms.error().describe();
  EXPECT_EQ(*sqn_ms, Sqn{500});

  // A tampered AUTS is refused rather than trusted.
  Auts tampered = *auts;
  tampered[0] ^= 0x01;
  auto bad = resync(kK, kOpc, n->rand, tampered);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, AkaErrorCode::AutsMacFailure);

  // The network continues from SQN_MS; the next challenge is accepted.
  net.sqn_he = *sqn_ms;
  const std::string again = ue.answer(net.challenge(octets<16>("9f7c8d021accf4db213ccff0c7f71a6a")));
  EXPECT_FALSE(ue.last_error);
  EXPECT_EQ(ue.sqn_ms, Sqn{501});
  auto h2 = parse_digest(again);
  ASSERT_TRUE(h2);
  EXPECT_FALSE(h2->auts);
  auto ok2 = verify_response(*h2, "REGISTER", net.vector.xres);
  ASSERT_TRUE(ok2);
  EXPECT_TRUE(*ok2);
}

TEST(AkaDigest, ForgedNonceIsAMacFailureAndNoAnswer) {
  Network net;
  Ue ue;
  const std::string www = net.challenge(octets<16>("23553cbe9637a89d218ae64dae47bf35"));
  Autn forged = net.vector.autn;
  forged[10] ^= 0x40;
  const std::string forged_www =
      build_challenge({kRealm, aka_nonce(net.vector.rand, forged), DigestAlgorithm::AkaV1Md5, true, {}, false, {}, {}});
  EXPECT_TRUE(ue.answer(forged_www).empty());
  ASSERT_TRUE(ue.last_error);
  EXPECT_EQ(ue.last_error->code, AkaErrorCode::MacFailure);
  EXPECT_EQ(ue.sqn_ms, Sqn{0});
}

// RFC 3310 §3.3: the password is RES as raw octets, not its hex text.
TEST(AkaDigest, PasswordIsTheRawRes) {
  const Res res = octets<8>("a54211d5e3ba50bf");
  auto ha1 = digest_ha1(kImpi, kRealm, res);
  ASSERT_TRUE(ha1);
  EXPECT_EQ(ha1->view(), "d2f64e2d1d31f9453e5fc038a5ce7fd3");
  auto empty = digest_ha1(kImpi, kRealm, std::span<const std::uint8_t>());
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->view(), "bfd78d058d9f01a8165f96897efb5688");
}

}  // namespace
}  // namespace imsflow::ims
