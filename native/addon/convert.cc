// native/addon/convert.cc
#include "convert.h"

#include <cmath>
#include <string_view>

namespace hsm::addon {

namespace {

[[noreturn]] void BadType(Napi::Env env, const char* what, const char* expected) {
  throw Napi::TypeError::New(env, std::string(what) + " must be " + expected);
}

}  // namespace

bool PeekUlong(const Napi::Value& v, CK_ULONG* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d > 9007199254740991.0) return false;
  *out = static_cast<CK_ULONG>(d);
  return true;
}

CK_ULONG ToUlong(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) BadType(v.Env(), what, "a non-negative integer");
  CK_ULONG out = 0;
  if (!PeekUlong(v, &out)) throw Napi::RangeError::New(v.Env(), std::string(what) + " must be a non-negative safe integer");
  return out;
}

bool ToBool(const Napi::Value& v, const char* what) {
  if (!v.IsBoolean()) BadType(v.Env(), what, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string ToString(const Napi::Value& v, const char* what) {
  if (!v.IsString()) BadType(v.Env(), what, "a string");
  return v.As<Napi::String>().Utf8Value();
}

ByteView ViewBytes(const Napi::Value& v, const char* what) {
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto a = v.As<Napi::Uint8Array>();
    return ByteView(a.Data(), a.ByteLength());
  }
  if (v.IsArrayBuffer()) {
    auto a = v.As<Napi::ArrayBuffer>();
    return ByteView(static_cast<const uint8_t*>(a.Data()), a.ByteLength());
  }
  BadType(v.Env(), what, "a Uint8Array");
}

Bytes ToBytes(const Napi::Value& v, const char* what) {
  ByteView view = ViewBytes(v, what);
  return Bytes(view.data, view.data + view.size);
}

QueuedInput::QueuedInput(const Napi::Value& v, const char* what) {
  ByteView view = ViewBytes(v, what);
  copy_.assign(view.data, view.data + view.size);
}

SecureBytes ToSecret(const Napi::Value& v, const char* what) {
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    SecureBytes out(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    WipeMemory(s.data(), s.size());
    return out;
  }
  Bytes b = ToBytes(v, what);
  return SecureBytes(ByteView(b));
}

Template ToTemplate(const Napi::Value& v, const char* what, bool nested) {
  if (!v.IsArray()) BadType(v.Env(), what, "an array of [type, value] pairs");
  auto arr = v.As<Napi::Array>();
  Template t;
  t.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value item = arr.Get(i);
    if (!item.IsArray() || item.As<Napi::Array>().Length() != 2) BadType(v.Env(), what, "an array of [type, value] pairs");
    auto pair = item.As<Napi::Array>();
    CK_ULONG type = ToUlong(pair.Get(0u), "attribute type");
    Napi::Value val = pair.Get(1u);
    Bytes bytes;
    if (val.IsBoolean()) {
      bytes = Bytes{static_cast<uint8_t>(val.As<Napi::Boolean>().Value() ? 1 : 0)};
    } else if (val.IsNumber()) {
      bytes = UlongBytes(ToUlong(val, "attribute value"));
    } else if (val.IsString()) {
      std::string s = val.As<Napi::String>().Utf8Value();
      bytes = Bytes(s.begin(), s.end());
    } else if (val.IsArray()) {  // CKA_WRAP_TEMPLATE / CKA_UNWRAP_TEMPLATE: one level, as in PKCS#11
      if (nested) throw Napi::RangeError::New(v.Env(), "a nested template cannot hold another template");
      bytes = EncodeTemplate(ToTemplate(val, "nested template", true));
    } else {
      bytes = ToBytes(val, "attribute value");
    }
    t.emplace_back(type, std::move(bytes));
  }
  return t;
}

std::vector<CK_ULONG> ToUlongArray(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) BadType(v.Env(), what, "an array of integers");
  auto arr = v.As<Napi::Array>();
  std::vector<CK_ULONG> out;
  for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(ToUlong(arr.Get(i), what));
  return out;
}

MechParams ToMechanism(const Napi::Value& v, const char* what) {
  if (v.IsNumber()) {  // a mechanism without parameters, as its bare CKM_* number
    MechParams m;
    m.type = ToUlong(v, what);
    return m;
  }
  if (!v.IsObject()) BadType(v.Env(), what, "a CKM_* number or an object { type, ...parameters }");
  auto o = v.As<Napi::Object>();
  MechParams m;
  bool has_type = false;
  // Walk the object's own keys (usually one to four) rather than probing every known name; read
  // each into a stack buffer (this runs once per call, and it was a third of a small HMAC's time).
  napi_env env = v.Env();
  napi_value names;
  if (napi_get_all_property_names(env, o, napi_key_own_only, static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                  napi_key_numbers_to_strings, &names) != napi_ok) {
    throw Napi::Error::New(env, std::string(what) + ": cannot read its keys");
  }
  Napi::Array keys(env, names);
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    napi_value kv = keys.Get(i);
    char buf[32];
    std::size_t len = 0;
    if (napi_get_value_string_utf8(env, kv, buf, sizeof buf, &len) != napi_ok) throw Napi::TypeError::New(env, std::string(what) + " has a key that is not a string");
    std::string_view key(buf, len);
    Napi::Value x = o.Get(Napi::Value(env, kv));
    if (x.IsUndefined()) continue;
    std::string name = "mechanism.";
    name.append(key);
    const char* n = name.c_str();
    if (key == "type") { m.type = ToUlong(x, n); has_type = true; }
    else if (key == "iv") m.iv = ToBytes(x, n);
    else if (key == "aad") m.aad = std::make_shared<const Bytes>(ToBytes(x, n));
    else if (key == "tagBits") m.tag_bits = ToUlong(x, n);
    else if (key == "counterBits") m.counter_bits = ToUlong(x, n);
    else if (key == "hashAlg") m.hash_alg = ToUlong(x, n);
    else if (key == "mgf") m.mgf = ToUlong(x, n);
    else if (key == "saltLength") m.salt_len = ToUlong(x, n);
    else if (key == "label") m.source_data = ToBytes(x, n);
    else if (key == "kdf") m.kdf = ToUlong(x, n);
    else if (key == "sharedData") m.shared_data = ToBytes(x, n);
    else if (key == "publicData") m.public_data = ToBytes(x, n);
    else if (key == "macLength") m.mac_length = ToUlong(x, n);
    else if (key == "aesKeyBits") m.aes_key_bits = ToUlong(x, n);
    else if (key == "extract") m.extract = ToBool(x, n);
    else if (key == "expand") m.expand = ToBool(x, n);
    else if (key == "saltType") m.salt_type = ToUlong(x, n);
    else if (key == "salt") m.salt = ToBytes(x, n);
    else if (key == "info") m.info = ToBytes(x, n);
    else if (key == "saltKey") m.salt_key = ToUlong(x, n);
    else if (key == "prf") m.prf = ToUlong(x, n);
    else if (key == "context") m.context = ToBytes(x, n);
    else if (key == "dkmBits") m.dkm_bits = ToUlong(x, n);
    else throw Napi::TypeError::New(v.Env(), std::string(what) + " has an unknown parameter '" + std::string(key) + "'");
  }
  if (!has_type) BadType(v.Env(), "mechanism.type", "a non-negative integer");
  return m;
}

Napi::Value FromBytes(Napi::Env env, const Bytes& b) { return Napi::Buffer<uint8_t>::Copy(env, b.data(), b.size()); }

Napi::Value FromUlong(Napi::Env env, CK_ULONG v) { return Napi::Number::New(env, static_cast<double>(v)); }

Napi::Value FromUlongArray(Napi::Env env, const std::vector<CK_ULONG>& v) {
  auto arr = Napi::Array::New(env, v.size());
  for (uint32_t i = 0; i < v.size(); ++i) arr.Set(i, FromUlong(env, v[i]));
  return arr;
}

Napi::Value FromAttributes(Napi::Env env, const std::vector<AttributeValue>& v) {
  auto arr = Napi::Array::New(env, v.size());
  for (uint32_t i = 0; i < v.size(); ++i) {
    auto o = Napi::Object::New(env);
    o.Set("type", FromUlong(env, v[i].type));
    o.Set("rv", FromUlong(env, v[i].status));
    o.Set("value", v[i].status == CKR_OK ? FromBytes(env, v[i].value) : env.Null());
    arr.Set(i, o);
  }
  return arr;
}

}  // namespace hsm::addon
