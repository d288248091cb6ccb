# sealhsm native build: the core as a static library, linked into the Node addon.
# The addon carries its own copy of the system's OpenSSL 3 (libcrypto.a, every symbol hidden) when
# the system has the static library, and otherwise uses the OpenSSL bundled inside Node
# (scripts/openssl-gyp.mjs says which; SEALHSM_OPENSSL=node forces Node's). The PKCS#11 module links
# the system's shared libcrypto. Both carry libsodium's static library for Ed25519 signing and key
# generation when the system has it (scripts/sodium-gyp.mjs; SEALHSM_SODIUM=0 leaves it out).
{
  "variables": {"werror%": "<!(node -p \"process.env.SEALHSM_WERROR === '1' ? 1 : 0\")"},
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
    "cflags": ["-Wall", "-Wextra", "-fvisibility=hidden", "-fPIC", "-O2", "-fstack-protector-strong"],
    # Warnings are errors where we build (CI sets SEALHSM_WERROR=1), not for users on newer compilers.
    "conditions": [["werror==1", {"cflags": ["-Werror"]}]],
    "cflags_cc": ["-std=c++20", "-fexceptions", "-Wno-missing-field-initializers"],
    "defines": ["_FORTIFY_SOURCE=2", "OPENSSL_API_COMPAT=30000", "OPENSSL_NO_DEPRECATED", "<!@(node scripts/sodium-gyp.mjs define)"],
    "include_dirs": ["<!@(node scripts/openssl-gyp.mjs include)", "native/include", "native/core"],
  },
  "targets": [
    {
      "target_name": "sealhsm_core",
      "type": "static_library",
      "sources": [
        "native/core/error.cc",
        "native/core/bytes.cc",
        "native/core/ossl.cc",
        "native/core/attributes.cc",
        "native/core/attribute_changes.cc",
        "native/core/curves.cc",
        "native/core/keys.cc",
        "native/core/pkcs8.cc",
        "native/core/rsa_check.cc",
        "native/core/profile.cc",
        "native/core/token.cc",
        "native/core/token_keys.cc",
        "native/core/token_crypto.cc",
        "native/core/library.cc",
        "native/core/users.cc",
        "native/core/token_users.cc",
        "native/core/token_persist.cc",
        "native/core/token_formats.cc",
        "native/core/token_seal.cc",
        "native/core/token_user_keys.cc",
        "native/core/token_migrate.cc",
        "native/core/store/sqlite.cc",
        "native/core/store/file_lock.cc",
        "native/core/store/generation_mark.cc",
        "native/core/store/operator_log.cc",
        "native/core/store/seal.cc",
        "native/core/store/state_mac.cc",
        "native/core/store/token_store.cc",
        "native/core/store/rows.cc",
        "native/core/store/user_state.cc",
        "native/core/store/user_keys.cc",
        "native/core/store/legacy_v2.cc",
        "native/core/mech/registry.cc",
        "native/core/mech/keygen.cc",
        "native/core/mech/block_cipher.cc",
        "native/core/mech/aes_block.cc",
        "native/core/mech/des3.cc",
        "native/core/mech/aes_gcm.cc",
        "native/core/mech/aes_mac.cc",
        "native/core/mech/aes_kw.cc",
        "native/core/mech/mac_common.cc",
        "native/core/mech/hmac.cc",
        "native/core/mech/digest.cc",
        "native/core/mech/rsa_common.cc",
        "native/core/mech/rsa_pkcs1.cc",
        "native/core/mech/rsa_pss.cc",
        "native/core/mech/rsa_oaep.cc",
        "native/core/mech/rsa_aes_wrap.cc",
        "native/core/mech/ecdsa.cc",
        "native/core/mech/eddsa.cc",
        "native/core/mech/ed25519_sodium.cc",
        "native/core/mech/ecdh.cc",
        "native/core/mech/hkdf.cc",
        "native/core/mech/cloudhsm_wrap.cc",
        "native/core/mech/kbkdf.cc"
      ]
    },
    {
      "target_name": "sealhsm-pkcs11",
      "type": "shared_library",
      "product_prefix": "",
      "product_extension": "so",
      "dependencies": ["sealhsm_core"],
      "sources": [
        "native/pkcs11/door.cc",
        "native/pkcs11/config.cc",
        "native/pkcs11/kbkdf_params.cc",
        "native/pkcs11/general.cc",
        "native/pkcs11/objects.cc",
        "native/pkcs11/crypto.cc",
        "native/pkcs11/keys.cc",
        "native/pkcs11/entry.cc"
      ],
      "libraries": ["<!@(node scripts/sodium-gyp.mjs link)", "-lcrypto", "-lsqlite3", "-Wl,-z,defs", "-Wl,--no-undefined"]
    },
    {
      "target_name": "sealhsm",
      "dependencies": ["sealhsm_core"],
      "sources": [
        "native/addon/module.cc",
        "native/addon/convert.cc",
        "native/addon/task.cc",
        "native/addon/lifecycle.cc",
        "native/addon/objects.cc",
        "native/addon/keys.cc",
        "native/addon/crypto.cc",
        "native/addon/store_pool.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "libraries": ["<!@(node scripts/sodium-gyp.mjs link)", "<!@(node scripts/openssl-gyp.mjs link)", "-lsqlite3"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"]
    }
  ]
}
