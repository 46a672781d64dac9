// AKA on both sides (TS 33.102 §6.3): the network's vector against TS 35.208
// test set 1, the USIM's checks (MAC first, then SQN freshness with the
// delta limit), AUTS and the network's resynchronisation.
#include "ims/aka.hpp"

#include <gtest/gtest.h>

#include "ims_test_support.hpp"

namespace imsflow::ims {
namespace {

using test::octets;

// TS 35.208 §4.3.1 (test set 1).
const Key kK = octets<16>("465b5ce8b199b49faa5f0a2ee238a6bc");
const Opc kOpc = octets<16>("cd63cb71954a9f4e48a5994e37a02baf");
const Rand kRand = octets<16>("23553cbe9637a89d218ae64dae47bf35");
constexpr Sqn kSqn = 0xff9bb4d0b607;
const Amf kAmf = octets<2>("b9b9");

TEST(Sqn, OctetsAreBigEndianAndRoundTrip) {
  EXPECT_EQ(sqn_to_octets(0x0123456789ab), octets<6>("0123456789ab"));
  EXPECT_EQ(sqn_from_octets(octets<6>("0123456789ab")), Sqn{0x0123456789ab});
  EXPECT_EQ(sqn_from_octets(sqn_to_octets(kSqnMax)), kSqnMax);
  EXPECT_EQ(sqn_to_octets(0), octets<6>("000000000000"));
  // Bits above 48 do not reach the wire.
  EXPECT_EQ(sqn_to_octets((Sqn{1} << 48) | 5), sqn_to_octets(5));
}

TEST(MakeVector, MatchesTestSet1) {
  auto v = make_vector(kK, kOpc, kSqn, kAmf, kRand);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->rand, kRand);
  // AUTN = SQN⊕AK ‖ AMF ‖ MAC-A = ff9bb4d0b607⊕aa689c648370 ‖ b9b9 ‖ 4a9ffac354dfafb3.
  EXPECT_EQ(v->autn, octets<16>("55f328b43577b9b94a9ffac354dfafb3"));
  EXPECT_EQ(v->xres, octets<8>("a54211d5e3ba50bf"));
  EXPECT_EQ(v->ck, octets<16>("b40ba9a3c58b2a05bbf0d987b21bf8cb"));
  EXPECT_EQ(v->ik, octets<16>("f769bcd751044604127672711c6d3441"));
}

TEST(MakeVector, RefusesAnSqnBeyond48Bits) {
  auto v = make_vector(kK, kOpc, kSqnMax + 1, kAmf, kRand);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, AkaErrorCode::SqnOutOfRange);
  EXPECT_EQ(v.error().sqn, kSqnMax + 1);
  EXPECT_TRUE(make_vector(kK, kOpc, kSqnMax, kAmf, kRand));
}

TEST(Authenticate, AcceptsAFreshSqnAndGivesTheVectorsKeys) {
  auto v = make_vector(kK, kOpc, kSqn, kAmf, kRand);
  ASSERT_TRUE(v);
  auto a = authenticate(kK, kOpc, v->rand, v->autn, kSqn - 1);
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a->res, v->xres);
  EXPECT_EQ(a->ck, v->ck);
  EXPECT_EQ(a->ik, v->ik);
  EXPECT_EQ(a->sqn, kSqn);
  EXPECT_EQ(a->amf, kAmf);
}

TEST(Authenticate, AnyAlteredAutnOctetIsAMacFailure) {
  auto v = make_vector(kK, kOpc, kSqn, kAmf, kRand);
  ASSERT_TRUE(v);
  for (std::size_t i = 0; i < v->autn.size(); ++i) {
    Autn bad = v->autn;
    bad[i] ^= 0x80;
    auto a = authenticate(kK, kOpc, v->rand, bad, kSqn - 1);
    ASSERT_FALSE(a) << "octet " << i;
    EXPECT_EQ(a.error().code, AkaErrorCode::MacFailure) << "octet " << i;
  }
  Key wrong_k = kK;
  wrong_k[15] ^= 1;
  auto a = authenticate(wrong_k, kOpc, v->rand, v->autn, kSqn - 1);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, AkaErrorCode::MacFailure);
}

// A forged AUTN must not make the USIM reveal SQN_MS through AUTS.
TEST(Authenticate, MacIsCheckedBeforeFreshness) {
  auto v = make_vector(kK, kOpc, kSqn, kAmf, kRand);
  ASSERT_TRUE(v);
  Autn bad = v->autn;
  bad[15] ^= 1;
  auto a = authenticate(kK, kOpc, v->rand, bad, kSqn + 10);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, AkaErrorCode::MacFailure);
}

TEST(Authenticate, ReplayedSqnIsASyncFailureWithAuts) {
  auto v = make_vector(kK, kOpc, 1000, kAmf, kRand);
  ASSERT_TRUE(v);
  for (Sqn highest : {Sqn{1000}, Sqn{1001}, Sqn{5000}}) {
    auto a = authenticate(kK, kOpc, v->rand, v->autn, highest);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code, AkaErrorCode::SyncFailure);
    EXPECT_EQ(a.error().sqn, Sqn{1000});
    auto sqn_ms = resync(kK, kOpc, v->rand, a.error().auts);
    ASSERT_TRUE(sqn_ms) << sqn_ms.error().describe();
    EXPECT_EQ(*sqn_ms, highest);
  }
}

TEST(Authenticate, DeltaLimitsHowFarAheadAnSqnMayBe) {
  const Sqn highest = 100;
  auto at_limit = make_vector(kK, kOpc, highest + kDefaultSqnDelta, kAmf, kRand);
  auto beyond = make_vector(kK, kOpc, highest + kDefaultSqnDelta + 1, kAmf, kRand);
  ASSERT_TRUE(at_limit);
  ASSERT_TRUE(beyond);
  EXPECT_TRUE(authenticate(kK, kOpc, kRand, at_limit->autn, highest));
  auto far = authenticate(kK, kOpc, kRand, beyond->autn, highest);
  ASSERT_FALSE(far);
  EXPECT_EQ(far.error().code, AkaErrorCode::SyncFailure);

  // A configured delta.
  auto v = make_vector(kK, kOpc, highest + 33, kAmf, kRand);
  ASSERT_TRUE(v);
  EXPECT_FALSE(authenticate(kK, kOpc, kRand, v->autn, highest, 32));
  EXPECT_TRUE(authenticate(kK, kOpc, kRand, v->autn, highest, 33));
}

TEST(Auts, ConcealsSqnMsWithF5StarAndSignsWithAmfZero) {
  auto m = Milenage::from_opc(kK, kOpc);
  ASSERT_TRUE(m);
  const Auts auts = make_auts(*m, kRand, kSqn);
  // SQN_MS ⊕ AK*: ff9bb4d0b607 ⊕ 451e8beca43b (f5* of test set 1).
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(auts[i], octets<6>("ba853f3c123c")[i]) << i;
  const Mac mac_s = m->f1_star(kRand, sqn_to_octets(kSqn), kResyncAmf);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(auts[6 + i], mac_s[i]) << i;
  // With the test set's AMF the MAC-S would be 01cfaf9ec4e871e9: AMF = 0 is a different MAC.
  EXPECT_NE(mac_s, octets<8>("01cfaf9ec4e871e9"));
}

TEST(Resync, RecoversSqnMsAndRefusesABadMacS) {
  auto m = Milenage::from_opc(kK, kOpc);
  ASSERT_TRUE(m);
  const Auts auts = make_auts(*m, kRand, 0x123456);
  auto sqn = resync(*m, kRand, auts);
  ASSERT_TRUE(sqn);
  EXPECT_EQ(*sqn, Sqn{0x123456});

  for (std::size_t i = 0; i < auts.size(); ++i) {
    Auts bad = auts;
    bad[i] ^= 0x01;
    auto r = resync(*m, kRand, bad);
    ASSERT_FALSE(r) << "octet " << i;
    EXPECT_EQ(r.error().code, AkaErrorCode::AutsMacFailure);
  }
  // AUTS belongs to its RAND.
  Rand other = kRand;
  other[3] ^= 0x10;
  auto r = resync(*m, other, auts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, AkaErrorCode::AutsMacFailure);
  EXPECT_EQ(r.error().describe(), "AUTS rejected: MAC-S does not match, SQN_MS not usable");
}

TEST(AkaError, DescribesTheSyncFailureSqn) {
  auto v = make_vector(kK, kOpc, 0x30, kAmf, kRand);
  ASSERT_TRUE(v);
  auto a = authenticate(kK, kOpc, kRand, v->autn, 0x40);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().describe(), "AUTN rejected: SQN 0x000000000030 is not fresh; answering with AUTS");
}

}  // namespace
}  // namespace imsflow::ims
