// The demo portal's CryptoPro-style page: plain CryptoPro ЭЦП Browser
// plug-in code (asynchronous API, generators run by cadesplugin.async_spawn,
// as CryptoPro's own async samples are written). Nothing here knows kep.
"use strict";

var lastSignature = { b64: "", detached: false, hash: "" };

function show(id, text) { document.getElementById(id).textContent = text; }

function showError(e) {
  show("result", "Ошибка: " + cadesplugin.getLastError(e));
  document.getElementById("result").className = "error";
}

function showResult(text) {
  show("result", text);
  document.getElementById("result").className = "ok";
}

function FillCertList_Async(listId) {
  return cadesplugin.async_spawn(function* (args) {
    var list = document.getElementById(args[0]);
    var oStore = yield cadesplugin.CreateObjectAsync("CAdESCOM.Store");
    yield oStore.Open(cadesplugin.CAPICOM_CURRENT_USER_STORE, cadesplugin.CAPICOM_MY_STORE,
      cadesplugin.CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED);
    var all = yield oStore.Certificates;
    var valid = yield all.Find(cadesplugin.CAPICOM_CERTIFICATE_FIND_TIME_VALID);
    var withKeys = yield valid.Find(cadesplugin.CAPICOM_CERTIFICATE_FIND_EXTENDED_PROPERTY,
      cadesplugin.CAPICOM_PROPID_KEY_PROV_INFO);
    var count = yield withKeys.Count;
    for (var i = 1; i <= count; i++) {
      var cert = yield withKeys.Item(i);
      var option = document.createElement("option");
      option.value = yield cert.Thumbprint;
      option.textContent = (yield cert.GetInfo(cadesplugin.CAPICOM_CERT_INFO_SUBJECT_SIMPLE_NAME)) +
        " — до " + new Date(yield cert.ValidToDate).toLocaleDateString("ru-RU");
      list.appendChild(option);
    }
    yield oStore.Close();
    return count;
  }, listId);
}

function FindCertificate_Async(thumbprint) {
  return cadesplugin.async_spawn(function* (args) {
    var oStore = yield cadesplugin.CreateObjectAsync("CAdESCOM.Store");
    yield oStore.Open(cadesplugin.CAPICOM_CURRENT_USER_STORE, cadesplugin.CAPICOM_MY_STORE,
      cadesplugin.CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED);
    var all = yield oStore.Certificates;
    var found = yield all.Find(cadesplugin.CAPICOM_CERTIFICATE_FIND_SHA1_HASH, args[0]);
    if ((yield found.Count) === 0) throw new Error("Сертификат не найден");
    var cert = yield found.Item(1);
    yield oStore.Close();
    return cert;
  }, thumbprint);
}

function ShowCertInfo_Async(thumbprint) {
  return cadesplugin.async_spawn(function* (args) {
    var cert = yield FindCertificate_Async(args[0]);
    var subject = yield cert.SubjectName;
    var issuer = yield cert.IssuerName;
    var validity = new Date(yield cert.ValidFromDate).toLocaleString("ru-RU") + " — " +
      new Date(yield cert.ValidToDate).toLocaleString("ru-RU");
    var pub = yield cert.PublicKey();
    var alg = yield pub.Algorithm;
    var algorithm = (yield alg.FriendlyName) + " (" + (yield alg.Value) + ")";
    if (selected() !== args[0]) return; // another certificate was chosen meanwhile
    show("subject", subject);
    show("issuer", issuer);
    show("validity", validity);
    show("algorithm", algorithm);
  }, thumbprint);
}

function SignCadesBES_Async(thumbprint, text, detached) {
  return cadesplugin.async_spawn(function* (args) {
    var cert = yield FindCertificate_Async(args[0]);
    var oSigner = yield cadesplugin.CreateObjectAsync("CAdESCOM.CPSigner");
    yield oSigner.propset_Certificate(cert);
    yield oSigner.propset_Options(cadesplugin.CAPICOM_CERTIFICATE_INCLUDE_WHOLE_CHAIN);
    var oTime = yield cadesplugin.CreateObjectAsync("CADESCOM.CPAttribute");
    yield oTime.propset_Name(cadesplugin.CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME);
    yield oTime.propset_Value(new Date());
    var attrs = yield oSigner.AuthenticatedAttributes2;
    yield attrs.Add(oTime);
    var oSignedData = yield cadesplugin.CreateObjectAsync("CAdESCOM.CadesSignedData");
    yield oSignedData.propset_ContentEncoding(cadesplugin.CADESCOM_BASE64_TO_BINARY);
    yield oSignedData.propset_Content(utf8Base64(args[1]));
    return yield oSignedData.SignCades(oSigner, cadesplugin.CADESCOM_CADES_BES, args[2]);
  }, thumbprint, text, detached);
}

function SignHash_Async(thumbprint, text) {
  return cadesplugin.async_spawn(function* (args) {
    var cert = yield FindCertificate_Async(args[0]);
    var oHashedData = yield cadesplugin.CreateObjectAsync("CAdESCOM.HashedData");
    yield oHashedData.propset_Algorithm(cadesplugin.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256);
    yield oHashedData.propset_DataEncoding(cadesplugin.CADESCOM_BASE64_TO_BINARY);
    yield oHashedData.Hash(utf8Base64(args[1]));
    var hash = yield oHashedData.Value;
    var oSigner = yield cadesplugin.CreateObjectAsync("CAdESCOM.CPSigner");
    yield oSigner.propset_Certificate(cert);
    var oSignedData = yield cadesplugin.CreateObjectAsync("CAdESCOM.CadesSignedData");
    var sig = yield oSignedData.SignHash(oHashedData, oSigner, cadesplugin.CADESCOM_CADES_BES);
    return { sig: sig, hash: hash };
  }, thumbprint, text);
}

function Verify_Async(signature, text, detached, hash) {
  return cadesplugin.async_spawn(function* (args) {
    var oSignedData = yield cadesplugin.CreateObjectAsync("CAdESCOM.CadesSignedData");
    if (args[3]) {
      var oHashedData = yield cadesplugin.CreateObjectAsync("CAdESCOM.HashedData");
      yield oHashedData.propset_Algorithm(cadesplugin.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256);
      yield oHashedData.SetHashValue(args[3]);
      yield oSignedData.VerifyHash(oHashedData, args[0], cadesplugin.CADESCOM_CADES_BES);
    } else {
      if (args[2]) {
        yield oSignedData.propset_ContentEncoding(cadesplugin.CADESCOM_BASE64_TO_BINARY);
        yield oSignedData.propset_Content(utf8Base64(args[1]));
      }
      yield oSignedData.VerifyCades(args[0], cadesplugin.CADESCOM_CADES_BES, args[2]);
    }
    var signers = yield oSignedData.Signers;
    var out = [];
    var n = yield signers.Count;
    for (var i = 1; i <= n; i++) {
      var signer = yield signers.Item(i);
      var cert = yield signer.Certificate;
      out.push((yield cert.GetInfo(cadesplugin.CAPICOM_CERT_INFO_SUBJECT_SIMPLE_NAME)) + ", " +
        new Date(yield signer.SigningTime).toLocaleString("ru-RU"));
    }
    return out;
  }, signature, text, detached, hash);
}

function utf8Base64(text) {
  var bytes = new TextEncoder().encode(text), s = "";
  for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

function selected() { return document.getElementById("CertListBox").value; }
function data() { return document.getElementById("DataToSign").value; }

function signWith(kind) {
  show("result", "Подтвердите подпись в окне kep…");
  document.getElementById("result").className = "";
  var done = function (b64, detached, hash) {
    lastSignature = { b64: b64, detached: detached, hash: hash || "" };
    document.getElementById("SignatureTxtBox").value = b64;
    showResult("Подпись создана (" + b64.length + " символов base64).");
  };
  var p = kind === "hash" ? SignHash_Async(selected(), data()).then(function (r) { done(r.sig, true, r.hash); }) :
    SignCadesBES_Async(selected(), data(), kind === "detached").then(function (sig) { done(sig, kind === "detached"); });
  p.catch(showError);
}

document.addEventListener("DOMContentLoaded", function () {
  cadesplugin.then(function () {
    show("plugin-status", "Плагин загружен.");
    return FillCertList_Async("CertListBox").then(function () { return ShowCertInfo_Async(selected()); });
  }, function (e) {
    show("plugin-status", "Плагин недоступен: " + cadesplugin.getLastError(e));
  }).catch(showError);
  document.getElementById("CertListBox").addEventListener("change", function () { ShowCertInfo_Async(selected()).catch(showError); });
  document.getElementById("sign-attached").addEventListener("click", function () { signWith("attached"); });
  document.getElementById("sign-detached").addEventListener("click", function () { signWith("detached"); });
  document.getElementById("sign-hash").addEventListener("click", function () { signWith("hash"); });
  document.getElementById("verify").addEventListener("click", function () {
    Verify_Async(lastSignature.b64, data(), lastSignature.detached, lastSignature.hash).then(function (signers) {
      showResult("Подпись верна. Подписали: " + signers.join("; "));
    }, showError);
  });
});
