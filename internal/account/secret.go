package account

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id at the parameters OWASP's Password
// Storage Cheat Sheet recommends (19 MiB, 2 iterations, 1 lane), and kept in
// the PHC string format, so that stronger parameters can come later without
// invalidating stored hashes.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length, in characters. No maximum below 64 (the issue), and one
// high enough for passphrases; the byte cap keeps a megabyte "password" from
// reaching the hash.
const (
	MinPasswordLen   = 12
	MaxPasswordLen   = 256
	maxPasswordBytes = 4 * MaxPasswordLen
)

// checkPassword says what is wrong with a new password, or "".
func checkPassword(pw string) string {
	switch n := utf8.RuneCountInString(pw); {
	case !utf8.ValidString(pw):
		return "the password is not valid UTF-8"
	case n < MinPasswordLen:
		return fmt.Sprintf("a password needs at least %d characters; this one has %d", MinPasswordLen, n)
	case n > MaxPasswordLen || len(pw) > maxPasswordBytes:
		return fmt.Sprintf("a password has at most %d characters", MaxPasswordLen)
	case strings.TrimSpace(pw) == "":
		return "a password cannot be only spaces"
	}
	return ""
}

// hasher bounds how many hashes run at once: each takes 19 MiB, and a burst
// of sign-ins must not take the server's memory with it.
type hasher struct{ slots chan struct{} }

func newHasher(n int) *hasher { return &hasher{slots: make(chan struct{}, n)} }

func (h *hasher) hash(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	h.slots <- struct{}{}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	<-h.slots
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// verify reports whether pw matches the PHC-encoded hash, comparing in
// constant time. The parameters are read from the hash.
func (h *hasher) verify(pw, encoded string) (bool, error) {
	var version int
	var memory, iterations uint32
	var threads uint8
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("not an argon2id hash")
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &iterations, &threads); err != nil {
		return false, errors.New("bad argon2 parameters")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errors.New("bad argon2 salt")
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, errors.New("bad argon2 key")
	}
	h.slots <- struct{}{}
	got := argon2.IDKey([]byte(pw), salt, iterations, memory, threads, uint32(len(want)))
	<-h.slots
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Tokens (sessions, invitations, resets) are 256 random bits, given to the
// client in base64url and stored only as their SHA-256. A token is looked up
// by its hash, so the stored value is never compared with what a client sent.
const tokenLen = 43 // base64url of 32 bytes, unpadded

func newToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormedToken reports whether s could be a token, before any lookup.
func wellFormedToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// randomPassword is a generated password for the first administrator in dev.
func randomPassword() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
