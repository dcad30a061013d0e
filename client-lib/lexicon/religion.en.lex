# Religious or philosophical beliefs (GDPR art. 9): faiths, denominations,
# observance, religious dress and diet, places and rites of worship when
# they are the writer's own. English.

term muslim/muslims/islam/islamic
term christian/christians | self
term born-again (christian)
term catholic/catholics/protestant/protestants/evangelical/evangelicals/anglican/methodist/baptist/baptists/lutheran/presbyterian/pentecostal/adventist/adventists/quaker/quakers/mormon/mormons
term jehovah's witness/witnesses
term seventh-day adventist/adventists
term latter-day saint/saints
term jewish/judaism
term orthodox jew/jews/jewish
term orthodox | self
term hasidic/haredi
term hindu/hindus/hinduism/sikh/sikhs/sikhism/buddhist/buddhists/buddhism/jain/jains/jainism/zoroastrian/bahai/taoist/shinto/rastafarian
term =Jew/=Jews | self
term pagan/pagans/wiccan/druid | self
term atheist/atheists/atheism/agnostic/agnostics/humanist | self
term practising/practicing/devout/observant/religious muslim/christian/catholic/jew/jewish/hindu/sikh/buddhist/believer/family
term convert/converted to islam/judaism/christianity/catholicism/buddhism
term my faith/religion/beliefs/church/mosque/synagogue/temple/gurdwara/parish/congregation/imam/rabbi/priest/pastor/vicar
term our faith/religion/beliefs/church/mosque/synagogue/temple/gurdwara/parish/congregation/imam/rabbi/priest/pastor/vicar
term religious reasons/beliefs/holiday/holidays/grounds/observance
term for religious reasons
term kippah/kippa/yarmulke/kippot/tzitzit/tefillin/niqab/burqa/burka/hijab/jilbab/abaya/turban | self
term headscarf/veil | near=@dress_cue
term wear/wears/wearing a/the headscarf/veil/hijab/turban/kippah/niqab
term keep/keeps/observe/observes kosher/halal/shabbat/sabbath/lent/ramadan
term keep/keeps/observe/observes the shabbat/sabbath/fast
term shabbat/sabbath/shabbos | self
term kosher/halal | self
term ramadan/eid/iftar/suhoor | self
term fasting for ramadan/lent/yom-kippur
term fasting | near=@fast_cue
term lent | near=@fast_cue
term yom kippur/passover/rosh hashanah/diwali/vaisakhi/navratri | self
term jummah/salah/namaz
term friday prayer/prayers
term pray/prays/praying five times
term go/goes/going/went to church/mass/mosque/synagogue/temple/gurdwara/prayers/services
term at church/mass/mosque/synagogue/temple/gurdwara | self
term after/before church/mass
term sunday mass/service/school
term bar/bat mitzvah
term first communion/confirmation
term baptism/christening | self
term inshallah | self
term my/our pastor/priest/imam/rabbi/vicar/minister
term i believe in god
term i =m/am not religious
term i =m/am religious
term a person of faith

@dress_cue = wear/wears/wearing/wore/my/her/religious/faith/cover
@fast_cue = i/we/my/our/am/for/during/religious

# Landmarks, names and everyday words.
not @landmark (the/a) (st/saint) ... church/mosque/synagogue/temple/chapel/cathedral/gurdwara
not church/chapel/mosque/temple/cathedral street/road/lane/hall/square/avenue/close/car-park
not christian dior/louboutin/lacroix
not name is christian
not named/called christian
not christian here/speaking
not this/it is/=s christian
not kosher salt
not orthodox medicine/approach/method/way/view/views
not temple run
not bridal/wedding veil
not lent me/you/him/her/us/them/it
not i/we/he/she/they/you lent
not jewish/catholic/muslim/hindu/christian/sikh bakery/deli/restaurant/shop/butcher/quarter/museum/school/cemetery/centre/center
not jewish/catholic/muslim/hindu/christian/sikh community/communities/festival/holiday/holidays
not fasting mode/app/tracker/window/protocol
not intermittent fasting
not mass produced/production/market/email/emails/mailing
not en masse
not halal/kosher restaurant/butcher/shop/aisle/section/range
not the church/mosque/temple/synagogue (is/was) next to/near/opposite

@landmark = next to
@landmark = opposite/near/beside/behind/by/outside/facing
@landmark = across from/the road
@landmark = in front of
@landmark = leave/drop/deliver it at/to/with/by
@landmark = drop it off at
@landmark = leave/drop/deliver the parcel/package/box at/to/with/by
@landmark = around the corner from
@landmark = turn/left/right at/after/past/by
@landmark = past
