package firstseen

import (
	"net/netip"
	"testing"
)

// TestIndexFindsRepeats adds keys and prefixes with repeats among them and
// checks every repeat is reported with the first place it was seen, and
// nothing else.
func TestIndexFindsRepeats(t *testing.T) {
	const n = 5000
	keys := make([][32]byte, n)
	for i := range keys {
		keys[i][0], keys[i][1], keys[i][31] = byte(i), byte(i>>8), 7
	}
	keys[4000] = keys[17]
	keys[4999] = keys[17]
	keys[100] = keys[99]
	x := New(n)
	want := map[int]int{4000: 17, 4999: 17, 100: 99}
	for i := range keys {
		first, _, dup := x.Add(x.HashKey(&keys[i]), i, 0, func(a, _ int) bool { return keys[a] == keys[i] })
		if w, ok := want[i]; ok != dup || dup && first != w {
			t.Errorf("key %d: repeat %v of %d, want %v of %d", i, dup, first, ok, w)
		}
	}

	// 10.0.0.0/24 and 10.0.0.1/24 differ before masking only: the caller
	// masks. ::ffff:10.0.0.0/120 is another prefix than 10.0.0.0/24, and
	// 10.0.0.0/25 than 10.0.0.0/24.
	ps := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/24"),
		netip.MustParsePrefix("::ffff:10.0.0.0/120"),
		netip.MustParsePrefix("10.0.0.0/25"),
		netip.MustParsePrefix("fd00::/64"),
		netip.MustParsePrefix("10.0.0.1/24"),
		netip.MustParsePrefix("fd00::1/64"),
		netip.MustParsePrefix("0.0.0.0/0"),
		netip.MustParsePrefix("::/0"),
	}
	x = New(len(ps))
	wantP := map[int]int{4: 0, 5: 3}
	for i, p := range ps {
		m := p.Masked()
		first, b, dup := x.Add(x.HashPrefix(m), i, -i, func(a, _ int) bool { return ps[a].Masked() == m })
		if w, ok := wantP[i]; ok != dup || dup && (first != w || b != -w) {
			t.Errorf("%v: repeat %v of %d (%d), want %v of %d", p, dup, first, b, ok, w)
		}
	}
}

// TestIndexGrows: an Index sized for fewer values than are added grows and
// still finds every repeat.
func TestIndexGrows(t *testing.T) {
	x := New(0)
	for i := range 1000 {
		k := [32]byte{byte(i), byte(i >> 8)}
		if _, _, dup := x.Add(x.HashKey(&k), i, 0, func(a, _ int) bool { return false }); dup {
			t.Fatalf("%d: a repeat", i)
		}
	}
	for i := range 1000 {
		k := [32]byte{byte(i), byte(i >> 8)}
		first, _, dup := x.Add(x.HashKey(&k), 1000+i, 0, func(a, _ int) bool { return a == i })
		if !dup || first != i {
			t.Fatalf("%d: repeat %v of %d", i, dup, first)
		}
	}
	for i := range 1100 {
		k := [32]byte{byte(i), byte(i >> 8)}
		a, _, ok := x.Find(x.HashKey(&k), func(a, _ int) bool { return a == i })
		if ok != (i < 1000) || ok && a != i {
			t.Fatalf("Find(%d) = %d, %v", i, a, ok)
		}
	}
	if len(x.slots) < 1000*3/2 {
		t.Errorf("%d slots for 1,000 values", len(x.slots))
	}
}

// TestIndexCollidingHashes: values whose hashes agree are told apart by eq.
func TestIndexCollidingHashes(t *testing.T) {
	x := New(3)
	vals := []int{1, 2, 1, 3, 2}
	for i, v := range vals {
		first, _, dup := x.Add(42, i, 0, func(a, _ int) bool { return vals[a] == v })
		wantDup := i == 2 || i == 4
		if dup != wantDup || dup && vals[first] != v {
			t.Errorf("value %d at %d: repeat %v of %d", v, i, dup, first)
		}
	}
}
