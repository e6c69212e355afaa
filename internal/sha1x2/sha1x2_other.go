//go:build !amd64

package sha1x2

const useSHANI = false

func blocks2(a, b *[5]uint32, pa, pb []byte) {
	panic("sha1x2: no two-message SHA-1 on this architecture")
}
