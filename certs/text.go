package certs

import (
	"fmt"
	"strings"
	"time"
)

// textLabels are the words of the human-readable summaries.
type textLabels struct {
	subject, issuer, serial, thumbprint, valid, key, signature, ca, yes, no string
	fields                                                                  map[string]string // by Qualified JSON name
	kinds                                                                   map[IdentificationKind]string
	problems, validationTime, chain, checks, otherPaths                     string
	indication                                                              map[string]string
	status                                                                  map[string]string
}

var texts = map[string]*textLabels{
	"en": {
		subject: "Subject", issuer: "Issuer", serial: "Serial", thumbprint: "SHA-1 thumbprint", valid: "Valid",
		key: "Key", signature: "Signature", ca: "CA", yes: "yes", no: "no",
		fields: map[string]string{
			"surname": "Surname", "givenName": "Given names", "organization": "Organization",
			"organizationalUnit": "Unit", "title": "Title", "country": "Country", "region": "Region",
			"locality": "Locality", "street": "Street", "email": "Email", "inn": "INN", "innLE": "INN (legal entity)",
			"ogrn": "OGRN", "ogrnip": "OGRNIP", "snils": "SNILS", "subjectSignTool": "Holder's signing tool",
			"issuerSignTool": "CA's tools", "identificationKind": "Identification", "signingToolClasses": "Signing tool classes",
			"keyUsage": "Key usage", "extKeyUsage": "Extended key usage",
		},
		kinds: map[IdentificationKind]string{
			IdentifiedInPerson: IdentifiedInPerson.String(), IdentifiedByQualifiedSignature: IdentifiedByQualifiedSignature.String(),
			IdentifiedByBiometricPassport: IdentifiedByBiometricPassport.String(), IdentifiedByESIA: IdentifiedByESIA.String(),
		},
		problems: "Problems", validationTime: "Validation time", chain: "Chain", checks: "Checks", otherPaths: "Other paths",
		indication: map[string]string{TotalPassed: "The certificate is valid", TotalFailed: "The certificate is NOT valid",
			Indeterminate: "The certificate's validity could not be established"},
		status: map[string]string{StatusPassed: "ok", StatusFailed: "FAILED", StatusWarning: "warning", StatusNotChecked: "not checked"},
	},
	"ru": {
		subject: "Владелец", issuer: "Издатель", serial: "Серийный номер", thumbprint: "Отпечаток SHA-1", valid: "Действителен",
		key: "Ключ", signature: "Подпись", ca: "УЦ", yes: "да", no: "нет",
		fields: map[string]string{
			"surname": "Фамилия", "givenName": "Имя и отчество", "organization": "Организация",
			"organizationalUnit": "Подразделение", "title": "Должность", "country": "Страна", "region": "Регион",
			"locality": "Населённый пункт", "street": "Адрес", "email": "Эл. почта", "inn": "ИНН", "innLE": "ИНН ЮЛ",
			"ogrn": "ОГРН", "ogrnip": "ОГРНИП", "snils": "СНИЛС", "subjectSignTool": "Средство ЭП владельца",
			"issuerSignTool": "Средства УЦ", "identificationKind": "Идентификация", "signingToolClasses": "Классы средств ЭП",
			"keyUsage": "Использование ключа", "extKeyUsage": "Расширенное использование ключа",
		},
		kinds: map[IdentificationKind]string{
			IdentifiedInPerson:             "при личном присутствии",
			IdentifiedByQualifiedSignature: "без личного присутствия, с помощью квалифицированной ЭП",
			IdentifiedByBiometricPassport:  "без личного присутствия, по загранпаспорту с биометрией",
			IdentifiedByESIA:               "без личного присутствия, через ЕСИА и ЕБС",
		},
		problems: "Замечания", validationTime: "Время проверки", chain: "Цепочка", checks: "Проверки", otherPaths: "Другие пути",
		indication: map[string]string{TotalPassed: "Сертификат действителен", TotalFailed: "Сертификат НЕ действителен",
			Indeterminate: "Действительность сертификата установить не удалось"},
		status: map[string]string{StatusPassed: "ok", StatusFailed: "ОШИБКА", StatusWarning: "внимание", StatusNotChecked: "не проверено"},
	},
}

func labelsFor(lang string) *textLabels {
	if strings.HasPrefix(strings.ToLower(lang), "ru") {
		return texts["ru"]
	}
	return texts["en"]
}

const textTime = "2006-01-02 15:04:05 UTC"

// Summary renders the certificate for a person, in Russian ("ru") or English
// (anything else): names, serial, thumbprint, validity, algorithms and the
// qualified fields with their problems.
func (c *Certificate) Summary(lang string) string {
	t := labelsFor(lang)
	q := c.Qualified
	var b strings.Builder
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-32s %s\n", label+":", v)
		}
	}
	isCA := t.no
	if c.BasicConstraintsValid && c.IsCA {
		isCA = t.yes
	}
	line(t.subject, c.SubjectString())
	line(t.issuer, c.IssuerString())
	line(t.serial, c.SerialHex())
	line(t.thumbprint, c.Thumbprint())
	line(t.valid, c.NotBefore.UTC().Format(textTime)+" — "+c.NotAfter.UTC().Format(textTime))
	line(t.key, c.KeyAlgorithm)
	line(t.signature, c.SignatureAlgorithmName())
	line(t.ca, isCA)
	for _, f := range []struct{ name, v string }{
		{"surname", q.Surname}, {"givenName", q.GivenName}, {"title", q.Title},
		{"organization", q.Organization}, {"organizationalUnit", q.OrganizationalUnit},
		{"snils", q.SNILS}, {"inn", q.INN}, {"innLE", q.INNLE}, {"ogrn", q.OGRN}, {"ogrnip", q.OGRNIP},
		{"email", q.Email}, {"country", q.Country}, {"region", q.Region}, {"locality", q.Locality}, {"street", q.Street},
		{"subjectSignTool", q.SubjectSignTool},
	} {
		line(t.fields[f.name], f.v)
	}
	if s := q.IssuerSignTool; s != nil {
		line(t.fields["issuerSignTool"], strings.Join([]string{s.SignTool, s.CATool, s.SignToolCert, s.CAToolCert}, "; "))
	}
	if k := q.IdentificationKind; k != nil {
		line(t.fields["identificationKind"], fmt.Sprintf("%d (%s)", int(*k), t.kinds[*k]))
	}
	line(t.fields["signingToolClasses"], strings.Join(q.SigningToolClasses, ", "))
	line(t.fields["keyUsage"], strings.Join(q.KeyUsage, ", "))
	line(t.fields["extKeyUsage"], strings.Join(q.ExtKeyUsage, ", "))
	if len(q.Problems) > 0 {
		fmt.Fprintf(&b, "  %s:\n", t.problems)
		for _, p := range q.Problems {
			fmt.Fprintf(&b, "    %s: %s\n", p.Field, p.Message)
		}
	}
	return b.String()
}

// Summary renders the result for a person, in Russian ("ru") or English
// (anything else): the indication, the chain, every check and the other
// paths' failures.
func (r *ChainResult) Summary(lang string) string {
	t := labelsFor(lang)
	var b strings.Builder
	ind := r.Indication
	if r.SubIndication != "" {
		ind += "/" + r.SubIndication
	}
	fmt.Fprintf(&b, "%s (%s)\n", t.indication[r.Indication], ind)
	fmt.Fprintf(&b, "%s: %s\n", t.validationTime, r.At.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "%s:\n", t.chain)
	for i, c := range r.Chain {
		fmt.Fprintf(&b, "  [%d] %s (SHA-1 %s)\n", i, c.SubjectString(), c.Thumbprint())
	}
	fmt.Fprintf(&b, "%s:\n", t.checks)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "  %-12s %-19s %s: %s\n", t.status[c.Status], c.Code, c.Subject, c.Detail)
	}
	if len(r.OtherPaths) > 0 {
		fmt.Fprintf(&b, "%s:\n", t.otherPaths)
		for _, p := range r.OtherPaths {
			fmt.Fprintf(&b, "  %s: %s/%s: %s\n", strings.Join(p.Chain, " → "), p.Indication, p.SubIndication, p.Reason)
		}
	}
	return b.String()
}
