/*  Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
    subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
    of the MPL was not distributed with this file, You can obtain one at
    https://mozilla.org/MPL/2.0/.  */
/*  =========================================================================
    zc_tx - a signed transaction {sender, data, signature}

    A transaction is immutable once built.  Its canonical text (RFC 8785
    of {"data","sender","signature"}) is computed once, because it is what
    travels inside blocks, what the block hash covers and what the id is
    the SHA-256 of.  The signature covers JCS({"data","sender"}).
    =========================================================================
*/

#include "zchain.h"

//  Bound on the strings a peer may put in sender and signature; a real
//  Ed25519 key is 44 base64 chars and a signature 88.
#define S_MAX_FIELD 1024

struct _zc_tx_t {
    char *sender;               //  base64 raw Ed25519 public key
    char *signature;            //  base64 Ed25519 signature
    char *data;                 //  canonical text of data
    char *canonical;            //  canonical text of the whole transaction
    char id [ZC_HASH_HEX + 1];  //  hex SHA-256 of canonical
    char received [ZC_TIMESTAMP_LEN + 1];  //  when it entered this node
    bool verified;              //  zc_tx_verify found the signature good
};

//  Canonical text of {"data": data, "sender": sender} and, when signature
//  is not NULL, with "signature" too.  data is already canonical text.
static char *
s_canonical (const char *data, const char *sender, const char *signature)
{
    cJSON *sender_json = cJSON_CreateString (sender);
    char *sender_text = zc_jcs_serialize (sender_json);
    cJSON_Delete (sender_json);
    char *signature_text = NULL;
    if (signature) {
        cJSON *signature_json = cJSON_CreateString (signature);
        signature_text = zc_jcs_serialize (signature_json);
        cJSON_Delete (signature_json);
    }
    char *result = NULL;
    if (sender_text && (signature_text || !signature)) {
        if (signature)
            result = zsys_sprintf ("{\"data\":%s,\"sender\":%s,\"signature\":%s}",
                                   data, sender_text, signature_text);
        else
            result = zsys_sprintf ("{\"data\":%s,\"sender\":%s}", data, sender_text);
    }
    free (sender_text);
    free (signature_text);
    return result;
}

//  Builds the object from validated parts, taking ownership of data.
static zc_tx_t *
s_tx_new (const char *sender, const char *signature, char *data)
{
    zc_tx_t *self = (zc_tx_t *) zmalloc (sizeof (zc_tx_t));
    self->sender = strdup (sender);
    self->signature = strdup (signature);
    self->data = data;
    self->canonical = s_canonical (data, sender, signature);
    if (!self->canonical) {
        zc_tx_destroy (&self);
        return NULL;
    }
    zc_sha256_hex (self->canonical, strlen (self->canonical), self->id);
    zc_timestamp_now (self->received);
    return self;
}

//  Checks the shape of a transaction from the wire and builds it.
zc_tx_t *
zc_tx_from_json (const cJSON *json, const char **error_p)
{
    const char *error = NULL;
    const cJSON *sender = cJSON_GetObjectItemCaseSensitive (json, "sender");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive (json, "data");
    const cJSON *signature = cJSON_GetObjectItemCaseSensitive (json, "signature");
    if (!cJSON_IsObject (json))
        error = "transaction is not an object";
    else
    if (!cJSON_IsString (sender) || !*sender->valuestring)
        error = "sender must be a non-empty string";
    else
    if (strlen (sender->valuestring) > S_MAX_FIELD)
        error = "sender is too long";
    else
    if (!cJSON_IsString (signature) || !*signature->valuestring)
        error = "signature must be a non-empty string";
    else
    if (strlen (signature->valuestring) > S_MAX_FIELD)
        error = "signature is too long";
    else
    if (!data)
        error = "data is missing";
    zc_tx_t *self = NULL;
    if (!error) {
        char *data_text = zc_jcs_serialize (data);
        if (!data_text)
            error = "data is not canonical JSON (bad number, UTF-8 or duplicate key)";
        else {
            self = s_tx_new (sender->valuestring, signature->valuestring, data_text);
            if (!self)
                error = "transaction is not canonical JSON";
        }
    }
    if (error_p)
        *error_p = error;
    return self;
}

//  Signs data with keys; what clients, the gateway and tests use to make
//  a transaction a node will accept.
zc_tx_t *
zc_tx_new_signed (zc_keys_t *keys, const cJSON *data)
{
    char *data_text = zc_jcs_serialize (data);
    if (!data_text)
        return NULL;
    const char *sender = zc_keys_public_b64 (keys);
    char *message = s_canonical (data_text, sender, NULL);
    char *signature = message? zc_keys_sign (keys, message, strlen (message)): NULL;
    zc_tx_t *self = NULL;
    if (signature)
        self = s_tx_new (sender, signature, data_text);
    else
        free (data_text);
    free (message);
    free (signature);
    return self;
}

//  Deep copy, so a mempool and a block can each own theirs.
zc_tx_t *
zc_tx_dup (zc_tx_t *self)
{
    if (!self)
        return NULL;
    zc_tx_t *copy = (zc_tx_t *) zmalloc (sizeof (zc_tx_t));
    copy->sender = strdup (self->sender);
    copy->signature = strdup (self->signature);
    copy->data = strdup (self->data);
    copy->canonical = strdup (self->canonical);
    memcpy (copy->id, self->id, sizeof copy->id);
    memcpy (copy->received, self->received, sizeof copy->received);
    copy->verified = self->verified;
    return copy;
}

//  Frees the transaction and nulls the caller's pointer.
void
zc_tx_destroy (zc_tx_t **self_p)
{
    if (self_p && *self_p) {
        zc_tx_t *self = *self_p;
        free (self->sender);
        free (self->signature);
        free (self->data);
        free (self->canonical);
        free (self);
        *self_p = NULL;
    }
}

const char *
zc_tx_id (zc_tx_t *self)
{
    return self->id;
}

const char *
zc_tx_sender (zc_tx_t *self)
{
    return self->sender;
}

const char *
zc_tx_signature (zc_tx_t *self)
{
    return self->signature;
}

const char *
zc_tx_data (zc_tx_t *self)
{
    return self->data;
}

const char *
zc_tx_canonical (zc_tx_t *self)
{
    return self->canonical;
}

//  Checks the sender's signature over JCS({"data","sender"}).
bool
zc_tx_verify (zc_tx_t *self)
{
    //  A transaction never changes once made, so a good signature stays
    //  good: the check is done once, by whichever thread holds it first
    if (self->verified)
        return true;
    char *message = s_canonical (self->data, self->sender, NULL);
    bool valid = message
              && zc_verify_raw (self->sender, message, strlen (message), self->signature);
    free (message);
    self->verified = valid;
    return valid;
}

//  The wire form; data is re-parsed from its canonical text.
cJSON *
zc_tx_to_json (zc_tx_t *self)
{
    cJSON *json = cJSON_CreateObject ();
    cJSON_AddStringToObject (json, "sender", self->sender);
    cJSON *data = zc_json_parse (self->data, strlen (self->data));
    cJSON_AddItemToObject (json, "data", data? data: cJSON_CreateNull ());
    cJSON_AddStringToObject (json, "signature", self->signature);
    return json;
}

const char *
zc_tx_received (zc_tx_t *self)
{
    return self->received;
}

//  Keeps the time a transaction first reached this node across copies
//  and restarts, for the ledger's start_timestamp.
void
zc_tx_set_received (zc_tx_t *self, const char *timestamp)
{
    snprintf (self->received, sizeof self->received, "%s", timestamp? timestamp: "");
}
