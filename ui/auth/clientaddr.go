package auth

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientAddr is the address of the client making the request, as sign-in
// throttling counts it: the TCP peer; when the peer is one of
// trustedProxies, the address X-Forwarded-For names, read from the right
// (the hop each proxy appended) past every trusted proxy, since anything
// further left is whatever the client chose to send.
func clientAddr(c *fiber.Ctx, trustedProxies []netip.Prefix) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return forwardedFor(peer.Unmap(), c.GetReqHeaders()[fiber.HeaderXForwardedFor], trustedProxies)
}

// forwardedFor is the client behind peer given the X-Forwarded-For header
// values in order (see clientAddr).
func forwardedFor(peer netip.Addr, header []string, trusted []netip.Prefix) netip.Addr {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(header, ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := parseHop(hops[i])
		if err != nil {
			break // not written by a proxy of ours: stop at the last good hop
		}
		client = a
		if !isTrusted(a) {
			break
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("203.0.113.7:51234", "[2001:db8::1]:443").
func parseHop(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return a.Unmap(), err
}

// ParseTrustedProxies reads a comma- or space-separated list of addresses
// and CIDR prefixes ("10.0.0.0/8, 127.0.0.1") for Options.TrustedProxies.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
