/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_keys.c - Ed25519 key pairs: node keys, gateway keys, client keys

    Wraps OpenSSL's EVP interface for the one algorithm zchain uses.  A key
    pair lives on disk as a PKCS#8 PEM file readable only by its owner and
    is written atomically (temp file, then rename).  Public keys travel as
    base64 of the raw 32 bytes (a transaction's sender) or as PEM (a block's
    public_key_pem); signatures as base64 of the raw 64 bytes.  The verify
    functions take untrusted text from the network: any malformed input
    makes them return false, never crash or assert.
    =========================================================================
*/

#include "zchain.h"
#include <assert.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>

#define ZC_ED25519_PUBLIC   32          //  bytes in a raw public key
#define ZC_ED25519_SIGNATURE 64         //  bytes in a raw signature
#define ZC_KEY_FILE_MAX     (64 * 1024) //  a key file is never near this

struct _zc_keys_t {
    EVP_PKEY *pkey;             //  the Ed25519 key pair
    char *public_b64;           //  base64 of the raw public key
    char *public_pem;           //  SubjectPublicKeyInfo PEM of it
};

//  Passphrase callback that refuses: we never read encrypted keys, and
//  OpenSSL's default would prompt on the terminal.
static int
s_no_passphrase (char *buffer, int size, int rwflag, void *arg)
{
    return -1;
}

//  Wraps a key pair and derives both public forms once, so the getters
//  can return borrowed strings.  Takes ownership of pkey, even on failure.
static zc_keys_t *
s_keys_wrap (EVP_PKEY *pkey)
{
    if (!pkey)
        return NULL;
    zc_keys_t *self = (zc_keys_t *) calloc (1, sizeof (zc_keys_t));
    BIO *bio = NULL;
    if (!self)
        goto fail;
    self->pkey = pkey;
    pkey = NULL;
    if (EVP_PKEY_get_id (self->pkey) != EVP_PKEY_ED25519)
        goto fail;

    uint8_t raw [ZC_ED25519_PUBLIC];
    size_t raw_size = sizeof raw;
    if (EVP_PKEY_get_raw_public_key (self->pkey, raw, &raw_size) != 1
    ||  raw_size != sizeof raw)
        goto fail;
    self->public_b64 = zc_base64_encode (raw, raw_size);
    if (!self->public_b64)
        goto fail;

    bio = BIO_new (BIO_s_mem ());
    if (!bio || PEM_write_bio_PUBKEY (bio, self->pkey) != 1)
        goto fail;
    char *pem_data = NULL;
    long pem_size = BIO_get_mem_data (bio, &pem_data);
    if (pem_size <= 0 || !pem_data)
        goto fail;
    self->public_pem = (char *) malloc ((size_t) pem_size + 1);
    if (!self->public_pem)
        goto fail;
    memcpy (self->public_pem, pem_data, (size_t) pem_size);
    self->public_pem [pem_size] = 0;
    BIO_free (bio);
    return self;
fail:
    BIO_free (bio);
    EVP_PKEY_free (pkey);
    zc_keys_destroy (&self);
    ERR_clear_error ();
    return NULL;
}

//  A fresh random key pair.
zc_keys_t *
zc_keys_new (void)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
    if (!pkey) {
        ERR_clear_error ();
        return NULL;
    }
    return s_keys_wrap (pkey);
}

//  Reads a PKCS#8 PEM private key; anything but an unencrypted Ed25519
//  key gives NULL.  Reads the file whole so a huge file cannot stall us.
zc_keys_t *
zc_keys_load (const char *path)
{
    if (!path)
        return NULL;
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *text = (char *) malloc (ZC_KEY_FILE_MAX);
    size_t size = text? fread (text, 1, ZC_KEY_FILE_MAX, file): 0;
    bool too_big = text && size == ZC_KEY_FILE_MAX;
    fclose (file);
    if (!text || too_big || size == 0) {
        free (text);
        return NULL;
    }
    EVP_PKEY *pkey = NULL;
    BIO *bio = BIO_new_mem_buf (text, (int) size);
    if (bio) {
        pkey = PEM_read_bio_PrivateKey (bio, NULL, s_no_passphrase, NULL);
        BIO_free (bio);
    }
    OPENSSL_cleanse (text, size);
    free (text);
    if (!pkey) {
        ERR_clear_error ();
        return NULL;
    }
    return s_keys_wrap (pkey);
}

//  First start of a node makes its key; later starts reuse it.  A file
//  that exists but is not a key is an error, never silently replaced.
zc_keys_t *
zc_keys_load_or_create (const char *path)
{
    if (!path)
        return NULL;
    struct stat status;
    if (stat (path, &status) == 0)
        return zc_keys_load (path);
    if (errno != ENOENT)
        return NULL;
    zc_keys_t *self = zc_keys_new ();
    if (self && zc_keys_save (self, path) != 0)
        zc_keys_destroy (&self);
    return self;
}

//  Writes the private key as PKCS#8 PEM to a 0600 temp file beside path,
//  syncs it and renames it over path, so a crash never leaves half a key.
int
zc_keys_save (zc_keys_t *self, const char *path)
{
    if (!self || !path)
        return -1;
    size_t length = strlen (path);
    char *temp_path = (char *) malloc (length + 16);
    if (!temp_path)
        return -1;
    snprintf (temp_path, length + 16, "%s.tmp.XXXXXX", path);
    int handle = mkstemp (temp_path);          //  mkstemp creates 0600
    if (handle < 0) {
        free (temp_path);
        return -1;
    }
    FILE *file = NULL;
    if (fchmod (handle, S_IRUSR | S_IWUSR) != 0
    || !(file = fdopen (handle, "wb"))) {
        close (handle);
        goto fail;
    }
    int written = PEM_write_PKCS8PrivateKey (file, self->pkey, NULL, NULL, 0,
                                             NULL, NULL);
    bool flushed = fflush (file) == 0 && fsync (fileno (file)) == 0;
    if (fclose (file) != 0 || written != 1 || !flushed)
        goto fail;
    if (rename (temp_path, path) != 0)
        goto fail;
    free (temp_path);
    return 0;
fail:
    unlink (temp_path);
    free (temp_path);
    ERR_clear_error ();
    return -1;
}

//  Frees the key pair; nulls the caller's pointer, safe to call twice.
void
zc_keys_destroy (zc_keys_t **self_p)
{
    if (self_p && *self_p) {
        zc_keys_t *self = *self_p;
        EVP_PKEY_free (self->pkey);
        free (self->public_b64);
        free (self->public_pem);
        free (self);
        *self_p = NULL;
    }
}

//  Borrowed base64 of the raw public key.
const char *
zc_keys_public_b64 (zc_keys_t *self)
{
    return self? self->public_b64: NULL;
}

//  Borrowed SubjectPublicKeyInfo PEM of the public key.
const char *
zc_keys_public_pem (zc_keys_t *self)
{
    return self? self->public_pem: NULL;
}

//  Signs data (pure Ed25519, no prehash) and returns the signature as
//  base64; NULL on failure.
char *
zc_keys_sign (zc_keys_t *self, const void *data, size_t size)
{
    static const uint8_t empty = 0;
    if (!self || (!data && size))
        return NULL;
    if (!data)
        data = &empty;          //  OpenSSL wants a pointer even for 0 bytes
    uint8_t signature [ZC_ED25519_SIGNATURE];
    size_t signature_size = sizeof signature;
    char *result = NULL;
    EVP_MD_CTX *context = EVP_MD_CTX_new ();
    if (context
    &&  EVP_DigestSignInit (context, NULL, NULL, NULL, self->pkey) == 1
    &&  EVP_DigestSign (context, signature, &signature_size,
                        (const uint8_t *) data, size) == 1
    &&  signature_size == sizeof signature)
        result = zc_base64_encode (signature, signature_size);
    EVP_MD_CTX_free (context);
    ERR_clear_error ();
    return result;
}

//  Checks a base64 signature against data with a parsed public key;
//  shared tail of both verify functions.  Consumes nothing.
static bool
s_verify (EVP_PKEY *pkey, const void *data, size_t size,
          const char *signature_b64)
{
    static const uint8_t empty = 0;
    if (!pkey || !signature_b64 || (!data && size))
        return false;
    if (EVP_PKEY_get_id (pkey) != EVP_PKEY_ED25519)
        return false;
    if (!data)
        data = &empty;
    size_t signature_size = 0;
    uint8_t *signature = zc_base64_decode (signature_b64, &signature_size);
    if (!signature)
        return false;
    bool valid = false;
    if (signature_size == ZC_ED25519_SIGNATURE) {
        EVP_MD_CTX *context = EVP_MD_CTX_new ();
        valid = context
             && EVP_DigestVerifyInit (context, NULL, NULL, NULL, pkey) == 1
             && EVP_DigestVerify (context, signature, signature_size,
                                  (const uint8_t *) data, size) == 1;
        EVP_MD_CTX_free (context);
    }
    free (signature);
    ERR_clear_error ();
    return valid;
}

//  Verifies a transaction signature: sender is base64 of 32 raw bytes.
bool
zc_verify_raw (const char *public_b64, const void *data, size_t size,
               const char *signature_b64)
{
    if (!public_b64)
        return false;
    size_t raw_size = 0;
    uint8_t *raw = zc_base64_decode (public_b64, &raw_size);
    if (!raw)
        return false;
    EVP_PKEY *pkey = NULL;
    if (raw_size == ZC_ED25519_PUBLIC)
        pkey = EVP_PKEY_new_raw_public_key (EVP_PKEY_ED25519, NULL, raw, raw_size);
    free (raw);
    bool valid = s_verify (pkey, data, size, signature_b64);
    EVP_PKEY_free (pkey);
    ERR_clear_error ();
    return valid;
}

//  Public keys read from PEM lately.  A block's miner key is one of a
//  few, and OpenSSL 3's PEM decoder costs more than the signature check
//  itself (issue 11's profile: 15 % of a node's CPU at a block or so per
//  transaction), so each distinct text is decoded once while it is used.
//  Invariant: an entry holds a PEM text byte for byte and the raw Ed25519
//  key OpenSSL read from it; at most S_PEM_CACHE entries, the oldest
//  replaced first; texts longer than S_PEM_TEXT_MAX are decoded every time.
#define S_PEM_CACHE     64
#define S_PEM_TEXT_MAX  256             //  a public key PEM is 113 bytes

typedef struct {
    char pem [S_PEM_TEXT_MAX];          //  "" while unused
    uint8_t raw [ZC_ED25519_PUBLIC];
} s_pem_entry_t;

static s_pem_entry_t s_pem_cache [S_PEM_CACHE];
static size_t s_pem_next;               //  the entry replaced next
static pthread_mutex_t s_pem_mutex = PTHREAD_MUTEX_INITIALIZER;

//  Reads the raw Ed25519 key of a SubjectPublicKeyInfo PEM into raw;
//  false on any malformed input or another algorithm.
static bool
s_pem_raw (const char *public_pem, uint8_t *raw)
{
    size_t length = public_pem? strlen (public_pem): 0;
    if (length == 0 || length > ZC_KEY_FILE_MAX)
        return false;
    bool cacheable = length < S_PEM_TEXT_MAX;
    if (cacheable) {
        bool found = false;
        pthread_mutex_lock (&s_pem_mutex);
        for (size_t i = 0; !found && i < S_PEM_CACHE; i++)
            if (streq (s_pem_cache [i].pem, public_pem)) {
                memcpy (raw, s_pem_cache [i].raw, ZC_ED25519_PUBLIC);
                found = true;
            }
        pthread_mutex_unlock (&s_pem_mutex);
        if (found)
            return true;
    }
    EVP_PKEY *pkey = NULL;
    BIO *bio = BIO_new_mem_buf (public_pem, (int) length);
    if (bio) {
        pkey = PEM_read_bio_PUBKEY (bio, NULL, s_no_passphrase, NULL);
        BIO_free (bio);
    }
    size_t raw_size = ZC_ED25519_PUBLIC;
    bool valid = pkey && EVP_PKEY_get_id (pkey) == EVP_PKEY_ED25519
              && EVP_PKEY_get_raw_public_key (pkey, raw, &raw_size) == 1
              && raw_size == ZC_ED25519_PUBLIC;
    EVP_PKEY_free (pkey);
    ERR_clear_error ();
    if (valid && cacheable) {
        pthread_mutex_lock (&s_pem_mutex);
        s_pem_entry_t *entry = &s_pem_cache [s_pem_next];
        s_pem_next = (s_pem_next + 1) % S_PEM_CACHE;
        memcpy (entry->pem, public_pem, length + 1);
        memcpy (entry->raw, raw, ZC_ED25519_PUBLIC);
        pthread_mutex_unlock (&s_pem_mutex);
    }
    return valid;
}

//  Verifies a block's miner signature: the key comes as PEM, and must be
//  an Ed25519 SubjectPublicKeyInfo.
bool
zc_verify_pem (const char *public_pem, const void *data, size_t size,
               const char *signature_b64)
{
    uint8_t raw [ZC_ED25519_PUBLIC];
    if (!s_pem_raw (public_pem, raw))
        return false;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key (EVP_PKEY_ED25519, NULL, raw, sizeof raw);
    bool valid = s_verify (pkey, data, size, signature_b64);
    EVP_PKEY_free (pkey);
    ERR_clear_error ();
    return valid;
}

//  Base64 of the raw 32-byte key of a PEM (SubjectPublicKeyInfo) Ed25519
//  public key: how a block's miner key compares with the keys a config
//  file pins.  NULL on any malformed input.  Caller frees.
char *
zc_pem_to_public_b64 (const char *public_pem)
{
    uint8_t raw [ZC_ED25519_PUBLIC];
    return s_pem_raw (public_pem, raw)? zc_base64_encode (raw, sizeof raw): NULL;
}
