package verify_test

import (
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/verify"
)

// TestSummary: the text `kep verify` prints, from a report built by hand,
// line by line in both languages: failed and warning checks of the report
// only, the signer's explanation of its sub-indication, the holder's name
// (or the common name), each identifier present, the certificate, the
// signing time in UTC, the level, the time-stamps, every check of the
// signer and, under CHAIN, the chain's failures.
func TestSummary(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	msk := time.FixedZone("MSK", 3*3600)
	st := time.Date(2026, 1, 2, 18, 0, 0, 0, msk)
	rep := &verify.Report{
		Indication: verify.TotalFailed, SubIndication: verify.HashFailure, ValidationTime: at,
		Checks: []verify.Check{
			{Code: "FORMAT", Status: verify.Passed},
			{Code: "CONTENT", Status: verify.Warning, Detail: "BER"},
			{Code: "SIGNER_CERTIFICATE", Status: verify.Failed, Detail: "two"},
			{Code: "LEVEL", Status: verify.NotChecked},
		},
		Signers: []verify.SignerReport{
			{Index: 0, Indication: verify.TotalFailed, SubIndication: verify.HashFailure,
				Signer: &certs.Qualified{Surname: "Иванов", GivenName: "Иван Иванович", CommonName: "ignored", Organization: "ООО Ромашка",
					SNILS: "11223344595", INN: "500100732259", INNLE: "7707083893", OGRN: "1027700132195"},
				Certificate: &verify.CertInfo{Serial: "01ab", Issuer: "CN=УЦ", NotBefore: time.Date(2026, 1, 2, 1, 0, 0, 0, msk), NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
				SigningTime: &st, Level: verify.LevelT,
				Timestamps: []verify.Timestamp{
					{Kind: verify.TimestampSignature, Time: at.Add(-time.Hour).In(msk), Indication: verify.TotalPassed, TSA: "CN=TSA"},
					{Kind: verify.TimestampContent, Time: at.Add(-2 * time.Hour), Indication: verify.Indeterminate, SubIndication: certs.SubTryLater},
				},
				Checks: []verify.Check{
					{Code: "MESSAGE_DIGEST", Status: verify.Failed, Detail: "changed"},
					{Code: "SIGNATURE", Status: verify.Passed},
					{Code: "CHAIN", Status: verify.Warning, Detail: "see below"},
				},
				Chain: &certs.ChainResult{Checks: []certs.Check{
					{Code: certs.CheckValidity, Status: certs.StatusPassed, Subject: "CN=Иванов"},
					{Code: certs.CheckRevocation, Status: certs.StatusFailed, Subject: "CN=Иванов", Detail: "no CRL"},
				}},
			},
			// No sub-indication, no surname: the common name; a sub-indication
			// without an explanation; no certificate, time or level.
			{Index: 1, Indication: verify.Indeterminate, Signer: &certs.Qualified{CommonName: "ООО Ромашка"},
				Checks: []verify.Check{{Code: "CHAIN", Status: verify.NotChecked}}},
			{Index: 2, Indication: verify.Indeterminate, SubIndication: certs.SubTryLater},
		},
	}
	want := map[string]string{
		"en": `Signature INVALID (TOTAL_FAILED/HASH_FAILURE)
Validation time: 2026-01-02T15:04:05Z
  [warn] CONTENT: BER
  [FAIL] SIGNER_CERTIFICATE: two

Signer 0: Signature INVALID (TOTAL_FAILED/HASH_FAILURE)
  The signature does not match the document: it was changed after signing, or it is another file.
  Holder: Иванов Иван Иванович
  Organisation: ООО Ромашка
  СНИЛС/SNILS: 11223344595
  ИНН/INN: 500100732259
  ИНН ЮЛ/INN LE: 7707083893
  ОГРН/OGRN: 1027700132195
  Certificate: 01ab, issuer CN=УЦ, valid 2026-01-01 … 2027-01-01
  Signing time (claimed by the signer): 2026-01-02T15:00:00Z
  Signature level: T
  Time-stamp (signature): 2026-01-02T14:04:05Z, TOTAL_PASSED, CN=TSA
  Time-stamp (content): 2026-01-02T13:04:05Z, INDETERMINATE/TRY_LATER
  [FAIL] MESSAGE_DIGEST: changed
  [ok] SIGNATURE
  [warn] CHAIN: see below
      [FAIL] REVOCATION (CN=Иванов): no CRL

Signer 1: Signature could not be verified (INDETERMINATE)
  Holder: ООО Ромашка
  [--] CHAIN

Signer 2: Signature could not be verified (INDETERMINATE/TRY_LATER)
`,
		"ru": `Подпись НЕДЕЙСТВИТЕЛЬНА (TOTAL_FAILED/HASH_FAILURE)
Время проверки: 2026-01-02T15:04:05Z
  [warn] CONTENT: BER
  [FAIL] SIGNER_CERTIFICATE: two

Подписант 0: Подпись НЕДЕЙСТВИТЕЛЬНА (TOTAL_FAILED/HASH_FAILURE)
  Подпись не соответствует документу: документ изменён после подписания или выбран не тот файл.
  Владелец: Иванов Иван Иванович
  Организация: ООО Ромашка
  СНИЛС/SNILS: 11223344595
  ИНН/INN: 500100732259
  ИНН ЮЛ/INN LE: 7707083893
  ОГРН/OGRN: 1027700132195
  Сертификат: 01ab, издатель CN=УЦ, действует 2026-01-01 … 2027-01-01
  Время подписи (заявлено подписантом): 2026-01-02T15:00:00Z
  Уровень подписи: T
  Штамп времени (signature): 2026-01-02T14:04:05Z, TOTAL_PASSED, CN=TSA
  Штамп времени (content): 2026-01-02T13:04:05Z, INDETERMINATE/TRY_LATER
  [FAIL] MESSAGE_DIGEST: changed
  [ok] SIGNATURE
  [warn] CHAIN: see below
      [FAIL] REVOCATION (CN=Иванов): no CRL

Подписант 1: Проверить подпись не удалось (INDETERMINATE)
  Владелец: ООО Ромашка
  [--] CHAIN

Подписант 2: Проверить подпись не удалось (INDETERMINATE/TRY_LATER)
`,
	}
	for _, lang := range []string{"en", "ru", "ru-RU", "de"} {
		w := want["en"]
		if lang[:2] == "ru" {
			w = want["ru"]
		}
		if got := rep.Summary(lang); got != w {
			t.Errorf("Summary(%q):\n%s\nwant:\n%s", lang, got, w)
		}
	}
}
