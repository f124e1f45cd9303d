package verify

import (
	"fmt"
	"strings"
	"time"
)

// Summary renders the report for a person, in Russian ("ru") or English
// (anything else).
func (rep *Report) Summary(lang string) string {
	t := texts["en"]
	if strings.HasPrefix(lang, "ru") {
		t = texts["ru"]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)\n", t.indication[rep.Indication], joinInd(rep.Indication, rep.SubIndication))
	fmt.Fprintf(&b, "%s: %s\n", t.validationTime, rep.ValidationTime.Format(time.RFC3339))
	for _, c := range rep.Checks {
		if c.Status == Failed || c.Status == Warning {
			fmt.Fprintf(&b, "  %s %s: %s\n", mark(c.Status), c.Code, c.Detail)
		}
	}
	for _, s := range rep.Signers {
		fmt.Fprintf(&b, "\n%s %d: %s (%s)\n", t.signer, s.Index, t.indication[s.Indication], joinInd(s.Indication, s.SubIndication))
		if s.SubIndication != "" {
			if why, ok := t.sub[s.SubIndication]; ok {
				fmt.Fprintf(&b, "  %s\n", why)
			}
		}
		if q := s.Signer; q != nil {
			name := strings.TrimSpace(q.Surname + " " + q.GivenName)
			if name == "" {
				name = q.CommonName
			}
			fmt.Fprintf(&b, "  %s: %s\n", t.owner, name)
			if q.Organization != "" {
				fmt.Fprintf(&b, "  %s: %s\n", t.org, q.Organization)
			}
			for _, f := range []struct{ label, v string }{{"СНИЛС/SNILS", q.SNILS}, {"ИНН/INN", q.INN}, {"ИНН ЮЛ/INN LE", q.INNLE}, {"ОГРН/OGRN", q.OGRN}} {
				if f.v != "" {
					fmt.Fprintf(&b, "  %s: %s\n", f.label, f.v)
				}
			}
		}
		if c := s.Certificate; c != nil {
			fmt.Fprintf(&b, "  %s: %s, %s %s, %s %s … %s\n", t.cert, c.Serial, t.issuer, c.Issuer, t.valid,
				c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"))
		}
		if s.SigningTime != nil {
			fmt.Fprintf(&b, "  %s: %s\n", t.signingTime, s.SigningTime.UTC().Format(time.RFC3339))
		}
		if s.Level != "" {
			fmt.Fprintf(&b, "  %s: %s\n", t.level, s.Level)
		}
		for _, ts := range s.Timestamps {
			fmt.Fprintf(&b, "  %s (%s): %s, %s", t.timestamp, ts.Kind, ts.Time.UTC().Format(time.RFC3339), joinInd(ts.Indication, ts.SubIndication))
			if ts.TSA != "" {
				fmt.Fprintf(&b, ", %s", ts.TSA)
			}
			b.WriteByte('\n')
		}
		for _, c := range s.Checks {
			fmt.Fprintf(&b, "  %s %s", mark(c.Status), c.Code)
			if c.Detail != "" {
				fmt.Fprintf(&b, ": %s", c.Detail)
			}
			b.WriteByte('\n')
			if c.Code == "CHAIN" && s.Chain != nil {
				for _, f := range s.Chain.Failures() {
					fmt.Fprintf(&b, "      %s %s (%s): %s\n", mark(f.Status), f.Code, f.Subject, f.Detail)
				}
			}
		}
	}
	return b.String()
}

func joinInd(ind, sub string) string {
	if sub == "" {
		return ind
	}
	return ind + "/" + sub
}

func mark(status string) string {
	switch status {
	case Passed:
		return "[ok]"
	case Failed:
		return "[FAIL]"
	case Warning:
		return "[warn]"
	}
	return "[--]"
}

type lang struct {
	indication                                                           map[string]string
	sub                                                                  map[string]string
	validationTime, signer, owner, org, cert, issuer, valid, signingTime string
	level, timestamp                                                     string
}

var texts = map[string]lang{
	"ru": {
		indication: map[string]string{TotalPassed: "Подпись действительна", TotalFailed: "Подпись НЕДЕЙСТВИТЕЛЬНА", Indeterminate: "Проверить подпись не удалось"},
		sub: map[string]string{
			FormatFailure:                "Файл подписи повреждён или имеет неверный формат.",
			HashFailure:                  "Подпись не соответствует документу: документ изменён после подписания или выбран не тот файл.",
			SigCryptoFailure:             "Значение подписи неверно: подпись подделана или повреждена.",
			SignedDataNotFound:           "Подпись отсоединённая: нужен и подписанный документ.",
			NoSigningCertificateFound:    "Сертификат подписанта не найден: укажите его или включите в подпись.",
			"NO_CERTIFICATE_CHAIN_FOUND": "Не удалось построить цепочку до доверенного корневого сертификата: добавьте корневой сертификат УЦ (--trust).",
			"OUT_OF_BOUNDS_NO_POE":       "Срок действия сертификата истёк (или ещё не начался) на момент проверки.",
			"OUT_OF_BOUNDS_NOT_REVOKED":  "Срок действия сертификата истёк на момент проверки (сертификат не отозван).",
			"NOT_YET_VALID":              "Сертификат ещё не действует на момент проверки.",
			"REVOKED_NO_POE":             "Сертификат подписанта отозван.",
			"REVOKED_CA_NO_POE":          "Сертификат промежуточного УЦ отозван.",
			"CHAIN_CONSTRAINTS_FAILURE":  "Сертификат не подходит для подписи (назначение ключа или ограничения цепочки).",
			CryptoConstraintsFailure:     "Алгоритм подписи не поддерживается.",
			TimestampOrderFailure:        "Штампы времени идут не в том порядке, который требует стандарт.",
		},
		validationTime: "Время проверки", signer: "Подписант", owner: "Владелец", org: "Организация",
		cert: "Сертификат", issuer: "издатель", valid: "действует", signingTime: "Время подписи (заявлено подписантом)",
		level: "Уровень подписи", timestamp: "Штамп времени",
	},
	"en": {
		indication: map[string]string{TotalPassed: "Signature valid", TotalFailed: "Signature INVALID", Indeterminate: "Signature could not be verified"},
		sub: map[string]string{
			FormatFailure:                "The signature file is damaged or malformed.",
			HashFailure:                  "The signature does not match the document: it was changed after signing, or it is another file.",
			SigCryptoFailure:             "The signature value is wrong: forged or damaged.",
			SignedDataNotFound:           "Detached signature: the signed document is needed too.",
			NoSigningCertificateFound:    "The signer's certificate was not found: supply it or embed it.",
			"NO_CERTIFICATE_CHAIN_FOUND": "No chain to a trusted root: add the CA's root certificate (--trust).",
			"OUT_OF_BOUNDS_NO_POE":       "The certificate had expired (or was not yet valid) at the validation time.",
			"OUT_OF_BOUNDS_NOT_REVOKED":  "The certificate had expired at the validation time (it is not revoked).",
			"NOT_YET_VALID":              "The certificate was not yet valid at the validation time.",
			"REVOKED_NO_POE":             "The signer's certificate is revoked.",
			"REVOKED_CA_NO_POE":          "An intermediate CA certificate is revoked.",
			"CHAIN_CONSTRAINTS_FAILURE":  "The certificate may not be used for signing (key usage or chain constraints).",
			CryptoConstraintsFailure:     "The signature algorithm is not supported.",
			TimestampOrderFailure:        "The time-stamps are not in the order the standard requires.",
		},
		validationTime: "Validation time", signer: "Signer", owner: "Holder", org: "Organisation",
		cert: "Certificate", issuer: "issuer", valid: "valid", signingTime: "Signing time (claimed by the signer)",
		level: "Signature level", timestamp: "Time-stamp",
	},
}
