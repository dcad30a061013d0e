/*
 * What parley-keys prints about keys, certificates, revocation lists and
 * directories, and the one-line explanation of a certificate that failed
 * verification. Shared by sign, directory, show and verify.
 */
#ifndef KEYS_DESCRIBE_H
#define KEYS_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include <parley/parley.h>

/* Public keys (hex) and the fingerprint of the signing key, one per line. */
void keys_print_keys(const uint8_t sign_pk[32], const uint8_t box_pk[32]);

/* Every field of a certificate. */
void keys_print_cert(const parley_cert_info *info);

/* "valid", "expired", "not yet valid", "revoked" for a certificate status. */
const char *keys_status_name(parley_err status);

/* Version and serials. */
void keys_print_revlist(const parley_revlist *r);

/* Version, notice, purposes, agents with their status, queues. */
void keys_print_directory(const parley_directory *d);

/*
 * What a relay pin shows of a directory that parley_directory_check()
 * accepted: version, expiry, revocation list, and that the content is sealed.
 */
void keys_print_sealed_directory(uint64_t version, uint64_t expires_at);

/*
 * Prints "<path>: <why>" for a directory (or revocation list) that did not
 * verify under the pin of brand brand_id; a directory key that does not
 * open the content (PARLEY_EBADSEAL) is named as such, and an expired one
 * with its expiry (expires_at, otherwise unused).
 */
void keys_report_directory_error(const char *path, parley_err err, const char *brand_id,
                                 uint64_t expires_at);

/*
 * Prints "<path>: <why>" for a certificate that did not verify against
 * the brand brand_id: for a bad signature it looks (without trusting it)
 * at the brand the certificate names, to say "another brand" when it is
 * not ours. info is what parley_cert_verify() filled, if anything.
 */
void keys_report_cert_error(const char *path, parley_err err, const uint8_t *buf, size_t len,
                            const char *brand_id, const parley_cert_info *info);

#endif
