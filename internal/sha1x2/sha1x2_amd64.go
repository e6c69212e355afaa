package sha1x2

// blocks2 runs SHA-1's compression function over the 64-byte blocks of pa
// and pb, which must have the same length, a multiple of 64.
//
//go:noescape
func blocks2(a, b *[5]uint32, pa, pb []byte)

func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

var useSHANI = hasSHANI()

// hasSHANI checks the CPU features blocks2 uses. They live in SSE
// registers, which every amd64 operating system saves, so unlike AVX no
// operating-system check is needed.
func hasSHANI() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		ssse3  = 1 << 9  // leaf 1 ECX
		sse41  = 1 << 19 // leaf 1 ECX
		shaExt = 1 << 29 // leaf 7 EBX
	)
	return ecx1&ssse3 != 0 && ecx1&sse41 != 0 && ebx7&shaExt != 0
}
