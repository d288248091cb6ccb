// test/java/SunPkcs11Test.java — Java's SunPKCS11 provider over sealhsm-pkcs11.so (issue: the stand-in
// holds under other people's suites): keystore login, RSA and EC key generation in the token,
// SHA256withRSA, RSASSA-PSS and SHA256withECDSA signatures that the default provider verifies, and
// AES/GCM round trips. Usage: java SunPkcs11Test.java <sunpkcs11.cfg> <user PIN>.
// Prints "ok - ..." / "not ok - ..." lines and "N passed, M failed".

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

public class SunPkcs11Test {
  private static int passed;
  private static int failed;
  private static final byte[] MESSAGE = "signed in the token, verified outside it".getBytes(StandardCharsets.UTF_8);

  private static void check(boolean ok, String name) {
    if (ok) {
      passed++;
      System.out.println("ok - " + name);
    } else {
      failed++;
      System.out.println("not ok - " + name);
    }
  }

  private static void run(String name, ThrowingRunnable body) {
    try {
      body.run();
    } catch (Exception e) {
      failed++;
      System.out.println("not ok - " + name + ": " + e);
    }
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** Signs in the token with `algorithm`, verifies with the JDK's own provider on the exported public key. */
  private static boolean signedInTokenVerifiedOutside(Provider p, KeyPair pair, String algorithm, String keyAlgorithm,
                                                      PSSParameterSpec pss) throws Exception {
    Signature sign = Signature.getInstance(algorithm, p);
    if (pss != null) sign.setParameter(pss);
    sign.initSign(pair.getPrivate());
    sign.update(MESSAGE);
    byte[] signature = sign.sign();
    PublicKey outside = KeyFactory.getInstance(keyAlgorithm).generatePublic(new X509EncodedKeySpec(pair.getPublic().getEncoded()));
    Signature verify = Signature.getInstance(algorithm);
    if (pss != null) verify.setParameter(pss);
    verify.initVerify(outside);
    verify.update(MESSAGE);
    return verify.verify(signature);
  }

  public static void main(String[] args) throws Exception {
    Provider p = Security.getProvider("SunPKCS11").configure(args[0]);
    Security.addProvider(p);
    run("keystore login", () -> {
      KeyStore ks = KeyStore.getInstance("PKCS11", p);
      ks.load(null, args[1].toCharArray());
      check(true, "keystore login with the user PIN");
    });
    run("RSA", () -> {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", p);
      g.initialize(2048);
      KeyPair pair = g.generateKeyPair();
      check(pair.getPrivate() instanceof PrivateKey, "RSA-2048 key pair generated in the token");
      check(signedInTokenVerifiedOutside(p, pair, "SHA256withRSA", "RSA", null), "SHA256withRSA verified by the default provider");
      PSSParameterSpec pss = new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1);
      check(signedInTokenVerifiedOutside(p, pair, "RSASSA-PSS", "RSA", pss), "RSASSA-PSS (SHA-256, MGF1, salt 32) verified by the default provider");
    });
    run("EC", () -> {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
      g.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = g.generateKeyPair();
      check(signedInTokenVerifiedOutside(p, pair, "SHA256withECDSA", "EC", null), "SHA256withECDSA on P-256 verified by the default provider");
    });
    run("AES/GCM", () -> {
      KeyGenerator g = KeyGenerator.getInstance("AES", p);
      g.init(256);
      SecretKey key = g.generateKey();
      byte[] iv = new byte[12];
      new java.security.SecureRandom().nextBytes(iv);
      Cipher enc = Cipher.getInstance("AES/GCM/NoPadding", p);
      enc.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
      enc.updateAAD("header".getBytes(StandardCharsets.UTF_8));
      byte[] sealed = enc.doFinal(MESSAGE);
      Cipher dec = Cipher.getInstance("AES/GCM/NoPadding", p);
      dec.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
      dec.updateAAD("header".getBytes(StandardCharsets.UTF_8));
      check(Arrays.equals(dec.doFinal(sealed), MESSAGE) && sealed.length == MESSAGE.length + 16, "AES-256/GCM with AAD round-trips in the token");
    });
    System.out.println(passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }
}
