package whatsapp

import (
	"testing"
	"time"
)

func TestParseNumberUpdates(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[
	 {"id":"102290129340398","time":1748454394,"changes":[
	  {"field":"phone_number_quality_update","value":{"display_phone_number":"15550783881","event":"THROUGHPUT_UPGRADE","current_limit":"TIER_UNLIMITED"}},
	  {"field":"phone_number_quality_update","value":{"display_phone_number":15550783881,"event":"UPGRADE","old_limit":"TIER_250","current_limit":"TIER_2K","max_daily_conversations_per_business":"TIER_10K"}},
	  {"field":"phone_number_quality_update","value":{"display_phone_number":"15550783881","event":"FLAGGED","current_limit":"TIER_1K"}},
	  {"field":"phone_number_quality_update","value":"not an object"},
	  {"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING","expiration":1641330498},{"restriction_type":"RESTRICTED_ADD_PHONE_NUMBER_ACTION","expiration":"1641330498"}]}}]}]}`)
	b, err := ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.NumberUpdates) != 3 || len(b.Other) != 1 || len(b.AccountUpdates) != 1 || b.Len() != 5 {
		t.Fatalf("batch: %+v", b)
	}
	for i, tc := range []struct {
		limit int
		tier  string
		ok    bool
	}{
		{0, "", false},             // throughput, not the messaging limit
		{10_000, "TIER_10K", true}, // the portfolio's tier wins
		{1000, "TIER_1K", true},    // an older name
	} {
		u := b.NumberUpdates[i]
		if u.DisplayPhoneNumber != "15550783881" || u.WABAID != "102290129340398" || !u.Time.Equal(time.Unix(1748454394, 0)) {
			t.Errorf("update %d: %+v", i, u)
		}
		limit, tier, ok := u.MessagingLimit()
		if limit != tc.limit || tier != tc.tier || ok != tc.ok {
			t.Errorf("update %d: MessagingLimit %d, %q, %v; want %d, %q, %v", i, limit, tier, ok, tc.limit, tc.tier, tc.ok)
		}
	}
	rs := b.AccountUpdates[0].Restrictions()
	if len(rs) != 2 || rs[0].Type != RestrictionBizInitiated || !rs[0].Expiration.Equal(time.Unix(1641330498, 0)) || !rs[1].Expiration.Equal(rs[0].Expiration) {
		t.Errorf("restrictions: %+v", rs)
	}
}

func TestTierLimit(t *testing.T) {
	for _, tc := range []struct {
		tier  string
		limit int
		ok    bool
	}{
		{"TIER_50", 50, true}, {"TIER_250", 250, true}, {"TIER_1K", 1000, true}, {"TIER_2K", 2000, true},
		{"TIER_10K", 10_000, true}, {"tier_100k", 100_000, true}, {"TIER_UNLIMITED", 0, true},
		{"TIER_NOT_SET", 0, false}, {"", 0, false}, {"TIER_3K", 0, false},
	} {
		if limit, ok := TierLimit(tc.tier); limit != tc.limit || ok != tc.ok {
			t.Errorf("TierLimit(%q) = %d, %v; want %d, %v", tc.tier, limit, ok, tc.limit, tc.ok)
		}
	}
}
